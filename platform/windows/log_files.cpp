// Log files: a Windows service's stderr goes nowhere, so hvtermd --service writes one.
#include "platform/system.h"
#include "platform/windows/internal.h"

#include <aclapi.h>
#include <io.h>
#include <knownfolders.h>
#include <sddl.h>
#include <shlobj.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hvterm::platform {
namespace {

// Full control for SYSTEM and Administrators, inherited by the files, nothing from the parent:
// ProgramData lets every user create and read files, and the log names peers and commands.
constexpr const wchar_t* kServiceDirectorySddl = L"D:P(A;OICI;FA;;;SY)(A;OICI;FA;;;BA)";

bool create_private_directory(const std::wstring& dir, std::string& error) {
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  if (!ConvertStringSecurityDescriptorToSecurityDescriptorW(kServiceDirectorySddl, SDDL_REVISION_1, &descriptor,
                                                            nullptr)) {
    error = "cannot build a security descriptor: " + detail::system_error_text(GetLastError());
    return false;
  }
  SECURITY_ATTRIBUTES attributes{sizeof(attributes), descriptor, FALSE};
  bool created = CreateDirectoryW(dir.c_str(), &attributes) != 0;
  DWORD code = GetLastError();
  LocalFree(descriptor);
  if (!created && code != ERROR_ALREADY_EXISTS) {
    error = "cannot create " + detail::narrow(dir) + ": " + detail::system_error_text(code);
    return false;
  }
  return true;
}

// A directory someone else made first (before the service ever ran) could hold links that turn
// the service's appends and renames against files of their choosing: use only one that belongs to
// SYSTEM, Administrators or the service's own account.
bool owned_by_us(const std::wstring& dir, std::string& error) {
  DWORD attributes = GetFileAttributesW(dir.c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_DIRECTORY) == 0 ||
      (attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0) {
    error = detail::narrow(dir) + " is not a plain directory";
    return false;
  }
  PSID owner = nullptr;
  PSECURITY_DESCRIPTOR descriptor = nullptr;
  DWORD rc = GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr, nullptr,
                                   nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    error = "cannot read the owner of " + detail::narrow(dir) + ": " + detail::system_error_text(rc);
    return false;
  }
  bool ours = detail::trusted_owner(owner);
  LocalFree(descriptor);
  if (!ours) error = detail::narrow(dir) + " belongs to someone other than SYSTEM, Administrators or this service";
  return ours;
}

}  // namespace

std::FILE* open_log_file(const std::string& path, bool truncate, std::string& error) {
  // b: records end in LF on every system, and their sizes are what rotation counts.
  int fd = open_append_file(path, "log file", truncate, false, error);
  std::FILE* file = fd >= 0 ? _fdopen(fd, "ab") : nullptr;
  if (fd >= 0 && file == nullptr) {
    error = "cannot open log file " + path + ": " + std::strerror(errno);
    _close(fd);
  }
  return file;
}

// MoveFileEx moves a link at PATH as itself and replaces one at PATH.1 rather than following it.
bool rotate_log_file(const std::string& path) {
  return MoveFileExW(detail::widen(path).c_str(), detail::widen(path + ".1").c_str(), MOVEFILE_REPLACE_EXISTING) != 0;
}

std::optional<std::string> service_log_path(const std::string& program, std::string& error) {
  // The known folder, not %ProgramData%: a service's environment need not have it.
  PWSTR folder = nullptr;
  HRESULT hr = SHGetKnownFolderPath(FOLDERID_ProgramData, KF_FLAG_DEFAULT, nullptr, &folder);
  if (FAILED(hr)) {
    error = "cannot find the ProgramData folder: " + detail::system_error_text(static_cast<unsigned long>(hr));
    return std::nullopt;
  }
  std::wstring dir = std::wstring(folder) + L"\\hvterm";
  CoTaskMemFree(folder);
  if (!create_private_directory(dir, error) || !owned_by_us(dir, error)) return std::nullopt;
  return detail::narrow(dir) + "\\" + program + ".log";
}

}  // namespace hvterm::platform
