// Log files: a Windows service's stderr goes nowhere, so hvtermd --service writes one.
#include "platform/windows/internal.h"

#include <knownfolders.h>
#include <shlobj.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace hvterm::platform {

std::FILE* open_log_file(const std::string& path, std::string& error) {
  // b: records end in LF on every system, and their sizes are what rotation counts. N: not
  // inherited, so a session's programs do not keep the log open.
  std::FILE* file = _wfopen(detail::widen(path).c_str(), L"abN");
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
  std::string dir = detail::narrow(folder) + "\\hvterm";
  CoTaskMemFree(folder);
  if (!CreateDirectoryW(detail::widen(dir).c_str(), nullptr) && GetLastError() != ERROR_ALREADY_EXISTS) {
    error = "cannot create " + dir + ": " + detail::system_error_text(GetLastError());
    return std::nullopt;
  }
  return dir + "\\" + program + ".log";
}

}  // namespace hvterm::platform
