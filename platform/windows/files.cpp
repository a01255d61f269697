// Files opened by path that someone else may have prepared (the agent's log, a transcript, a
// token). A symbolic link or junction is a reparse point: opened as itself, never followed, and
// refused. The owner is checked; the ACL is not (there is no one-bit answer to "writable by others").
#include "platform/system.h"
#include "platform/windows/internal.h"

#include <aclapi.h>
#include <fcntl.h>
#include <io.h>
#include <sddl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hvterm::platform {
namespace detail {

bool is_own_account(PSID sid) {
  HANDLE token = nullptr;
  if (!OpenProcessToken(GetCurrentProcess(), TOKEN_QUERY, &token)) return false;
  alignas(TOKEN_USER) unsigned char buffer[sizeof(TOKEN_USER) + SECURITY_MAX_SID_SIZE];
  DWORD size = 0;
  bool same = GetTokenInformation(token, TokenUser, buffer, sizeof(buffer), &size) &&
              EqualSid(reinterpret_cast<TOKEN_USER*>(buffer)->User.Sid, sid);
  CloseHandle(token);
  return same;
}

bool trusted_owner(PSID owner) {
  return owner != nullptr && (IsWellKnownSid(owner, WinLocalSystemSid) ||
                              IsWellKnownSid(owner, WinBuiltinAdministratorsSid) || is_own_account(owner));
}

bool file_owner_trusted(HANDLE file, std::string& error) {
  error.clear();
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  DWORD rc = GetSecurityInfo(file, SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr, nullptr,
                             &descriptor);
  if (rc != ERROR_SUCCESS) {
    error = "cannot read its owner: " + system_error_text(rc);
    return false;
  }
  bool trusted = trusted_owner(owner);
  LocalFree(descriptor);
  return trusted;
}

std::string reparse_point_refusal(HANDLE file) {
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(file, &info)) return system_error_text(GetLastError());
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) return "it is a reparse point (a link)";
  return {};
}

}  // namespace detail

namespace {

// Why an opened file must not be written to by us, or empty when it may.
std::string unsafe_to_write(HANDLE file) {
  BY_HANDLE_FILE_INFORMATION info{};
  if (!GetFileInformationByHandle(file, &info)) return detail::system_error_text(GetLastError());
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) return "it is a reparse point (a link)";
  if ((info.dwFileAttributes & FILE_ATTRIBUTE_DIRECTORY) != 0) return "it is not a regular file";
  if (info.nNumberOfLinks != 1) return "it has " + std::to_string(info.nNumberOfLinks) + " hard links";
  std::string error;
  if (detail::file_owner_trusted(file, error)) return "";
  return error.empty() ? "it belongs to an account other than this one, SYSTEM or Administrators" : error;
}

// What 0600 is on POSIX: full control for the file's owner, SYSTEM and Administrators, nothing
// inherited from a directory that may let everyone read.
constexpr const wchar_t* kPrivateFileSddl = L"D:P(A;;FA;;;OW)(A;;FA;;;SY)(A;;FA;;;BA)";

HANDLE create_private(const std::wstring& path, DWORD access) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), nullptr, FALSE};
  if (ConvertStringSecurityDescriptorToSecurityDescriptorW(kPrivateFileSddl, SDDL_REVISION_1, &descriptor, nullptr))
    attributes.lpSecurityDescriptor = descriptor;
  HANDLE file = CreateFileW(path.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE, &attributes, CREATE_NEW,
                            FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  DWORD code = GetLastError();
  if (descriptor != nullptr) LocalFree(descriptor);
  SetLastError(code);
  return file;
}

}  // namespace

int open_append_file(const std::string& path, const std::string& what, bool truncate, bool /*devices_ok*/,
                     std::string& error) {
  std::wstring wide = detail::widen(path);
  // FILE_APPEND_DATA without FILE_WRITE_DATA: every write lands at the end, whoever else writes.
  DWORD access = FILE_APPEND_DATA | FILE_READ_ATTRIBUTES | READ_CONTROL | SYNCHRONIZE |
                 (truncate ? FILE_WRITE_DATA : 0);
  for (int attempt = 0; attempt < 16; ++attempt) {
    HANDLE file = CreateFileW(wide.c_str(), access, FILE_SHARE_READ | FILE_SHARE_WRITE, nullptr, OPEN_EXISTING,
                              FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    bool created = false;
    if (file == INVALID_HANDLE_VALUE && GetLastError() == ERROR_FILE_NOT_FOUND) {
      file = create_private(wide, access);
      if (file == INVALID_HANDLE_VALUE && GetLastError() == ERROR_FILE_EXISTS) continue;
      created = file != INVALID_HANDLE_VALUE;
    }
    if (file == INVALID_HANDLE_VALUE) {
      error = "cannot open " + what + " " + path + ": " + detail::system_error_text(GetLastError());
      return -1;
    }
    std::string reason = created ? std::string() : unsafe_to_write(file);
    if (reason.empty() && truncate && !SetEndOfFile(file))
      reason = "cannot empty it: " + detail::system_error_text(GetLastError());
    if (!reason.empty()) {
      CloseHandle(file);
      error = "refusing " + what + " " + path + ": " + reason;
      return -1;
    }
    int fd = _open_osfhandle(reinterpret_cast<intptr_t>(file), _O_APPEND);
    if (fd < 0) {
      CloseHandle(file);
      error = "cannot open " + what + " " + path + ": out of file descriptors";
    }
    return fd;
  }
  error = "cannot open " + what + " " + path + ": it keeps being replaced";
  return -1;
}

bool read_private_file(const std::string& path, const std::string& what, size_t max_bytes, std::string& contents,
                       std::string& error) {
  std::FILE* file = _wfopen(detail::widen(path).c_str(), L"rbN");
  if (file == nullptr) {
    error = "cannot read " + what + " " + path + ": " + std::strerror(errno);
    return false;
  }
  contents.clear();
  char buffer[4096];
  size_t n = 0;
  while (contents.size() <= max_bytes && (n = std::fread(buffer, 1, sizeof(buffer), file)) > 0)
    contents.append(buffer, n);
  bool failed = std::ferror(file) != 0;
  std::fclose(file);
  if (failed)
    error = "cannot read " + what + " " + path;
  else if (contents.size() > max_bytes)
    error = what + " " + path + " is larger than " + std::to_string(max_bytes) + " bytes";
  return !failed && contents.size() <= max_bytes;
}

}  // namespace hvterm::platform
