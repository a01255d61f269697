// Log files: a Windows service's stderr goes nowhere, so hvtermd --service writes one.
#include "platform/windows/internal.h"

#include <aclapi.h>
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
  DWORD rc = GetNamedSecurityInfoW(dir.c_str(), SE_FILE_OBJECT, OWNER_SECURITY_INFORMATION, &owner, nullptr,
                                   nullptr, nullptr, &descriptor);
  if (rc != ERROR_SUCCESS) {
    error = "cannot read the owner of " + detail::narrow(dir) + ": " + detail::system_error_text(rc);
    return false;
  }
  bool ours = owner != nullptr && (IsWellKnownSid(owner, WinLocalSystemSid) ||
                                   IsWellKnownSid(owner, WinBuiltinAdministratorsSid) || is_own_account(owner));
  LocalFree(descriptor);
  if (!ours) error = detail::narrow(dir) + " belongs to someone other than SYSTEM, Administrators or this service";
  return ours;
}

}  // namespace

std::FILE* open_log_file(const std::string& path, bool truncate, std::string& error) {
  // b: records end in LF on every system, and their sizes are what rotation counts. N: not
  // inherited, so a session's programs do not keep the log open.
  std::FILE* file = _wfopen(detail::widen(path).c_str(), truncate ? L"wbN" : L"abN");
  if (file == nullptr) error = "cannot open log file " + path + ": " + std::strerror(errno);
  return file;
}

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
