// Files and directories for hvterm cp, Windows: the wide-character Win32 calls on UTF-8 paths, with
// CRT descriptors (_open_osfhandle) as the seam's `int` files. A reparse point (symbolic link or
// junction) is never followed where the name came from a copy stream. What Windows lacks is
// approximated: a mode is the read-only attribute (0644 / 0444, 0755 for directories and programs),
// there are no owners, and the partial file's lock is its share mode.
#include "platform/file_tree.h"

#include "platform/system.h"
#include "platform/windows/internal.h"

#include <aclapi.h>
#include <fcntl.h>
#include <io.h>
#include <winioctl.h>

#include <algorithm>
#include <cctype>
#include <cstring>

namespace hvterm::platform {
namespace {

using detail::narrow;
using detail::widen;

bool failed(std::string& error, DWORD code) {
  error = detail::system_error_text(code);
  return false;
}
bool failed(std::string& error) { return failed(error, GetLastError()); }

// Windows takes either separator, but a relative symlink target and the \\?\ forms want '\'.
std::wstring wide_path(const std::string& path) {
  std::wstring wide = widen(path);
  std::replace(wide.begin(), wide.end(), L'/', L'\\');
  return wide;
}

constexpr int64_t kUnixEpochInFileTime = 116444736000000000LL;  // 1970-01-01 in 100 ns units since 1601

void from_file_time(const FILETIME& time, int64_t& seconds, uint32_t& nanoseconds) {
  int64_t ticks = static_cast<int64_t>((static_cast<uint64_t>(time.dwHighDateTime) << 32) | time.dwLowDateTime) -
                  kUnixEpochInFileTime;
  int64_t s = ticks / 10000000, rest = ticks % 10000000;
  if (rest < 0) rest += 10000000, --s;
  seconds = s;
  nanoseconds = static_cast<uint32_t>(rest * 100);
}

FILETIME to_file_time(int64_t seconds, uint32_t nanoseconds) {
  int64_t ticks = seconds * 10000000 + nanoseconds / 100 + kUnixEpochInFileTime;
  if (ticks < 0) ticks = 0;  // before 1601: the earliest Windows can say
  FILETIME time;
  time.dwLowDateTime = static_cast<DWORD>(static_cast<uint64_t>(ticks));
  time.dwHighDateTime = static_cast<DWORD>(static_cast<uint64_t>(ticks) >> 32);
  return time;
}

bool is_program(const std::string& path) {
  size_t dot = path.find_last_of('.'), slash = last_separator(path);
  if (dot == std::string::npos || (slash != std::string::npos && slash > dot)) return false;
  std::string extension = path.substr(dot);
  for (char& c : extension) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return extension == ".exe" || extension == ".com" || extension == ".bat" || extension == ".cmd";
}

void fill_info(const std::string& path, DWORD attributes, uint64_t size, const FILETIME& written, FileInfo& info) {
  if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0) {
    info.type = FileInfo::Type::Directory;
    info.mode = 0755;
  } else {
    info.type = (attributes & FILE_ATTRIBUTE_DEVICE) != 0 ? FileInfo::Type::Other : FileInfo::Type::File;
    info.mode = (attributes & FILE_ATTRIBUTE_READONLY) != 0 ? 0444 : 0644;
    if (is_program(path)) info.mode |= (info.mode & 0444) >> 2;
    info.size = size;
  }
  from_file_time(written, info.mtime_s, info.mtime_ns);
}

// Symbolic links and junctions are the reparse points that name another path; the others (cloud
// placeholders, deduplicated files) are what their attributes say.
bool is_link_tag(DWORD tag) { return tag == IO_REPARSE_TAG_SYMLINK || tag == IO_REPARSE_TAG_MOUNT_POINT; }

bool missing(DWORD code) {
  return code == ERROR_FILE_NOT_FOUND || code == ERROR_PATH_NOT_FOUND || code == ERROR_INVALID_NAME ||
         code == ERROR_BAD_NETPATH || code == ERROR_BAD_NET_NAME;
}

// The handle becomes a CRT descriptor, which owns it from then on.
int descriptor_of(HANDLE handle, int flags, std::string& error) {
  int fd = _open_osfhandle(reinterpret_cast<intptr_t>(handle), flags | _O_BINARY);
  if (fd < 0) {
    CloseHandle(handle);
    error = "too many open files";
  }
  return fd;
}

HANDLE handle_of(int file) { return reinterpret_cast<HANDLE>(_get_osfhandle(file)); }

// Replacing or deleting a read-only file is refused on Windows where POSIX allows it (the
// directory's permission decides there): the attribute goes first.
bool clear_read_only(const std::wstring& path) {
  DWORD attributes = GetFileAttributesW(path.c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES || (attributes & FILE_ATTRIBUTE_READONLY) == 0 ||
      (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
    return false;
  return SetFileAttributesW(path.c_str(), attributes & ~static_cast<DWORD>(FILE_ATTRIBUTE_READONLY)) != 0;
}

// A partial file another account made could be theirs to change after we continue it, as on POSIX
// where a file of another user is refused. Empty when it is ours (or SYSTEM's or the administrators').
std::string foreign_owner(HANDLE file) {
  std::string error;
  if (detail::file_owner_trusted(file, error)) return "";
  return error.empty() ? "owned by another account" : error;
}

// The reparse data of a symbolic link or junction, as in ntifs.h (which user-mode headers lack).
struct ReparseData {
  ULONG tag;
  USHORT data_length;
  USHORT reserved;
  USHORT substitute_offset, substitute_length, print_offset, print_length;
};
constexpr ULONG kSymlinkRelative = 1;

}  // namespace

bool file_info(const std::string& path, bool follow, FileInfo& info, std::string& error) {
  info = FileInfo{};
  std::wstring wide = wide_path(path);
  WIN32_FILE_ATTRIBUTE_DATA data{};
  if (!GetFileAttributesExW(wide.c_str(), GetFileExInfoStandard, &data)) {
    DWORD code = GetLastError();
    return missing(code) || failed(error, code);
  }
  if ((data.dwFileAttributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0) {
    fill_info(path, data.dwFileAttributes, (static_cast<uint64_t>(data.nFileSizeHigh) << 32) | data.nFileSizeLow,
              data.ftLastWriteTime, info);
    return true;
  }
  if (!follow) {
    WIN32_FIND_DATAW found{};
    HANDLE find = FindFirstFileW(wide.c_str(), &found);
    if (find == INVALID_HANDLE_VALUE) return failed(error);
    FindClose(find);
    if (is_link_tag(found.dwReserved0)) {
      info.type = FileInfo::Type::Symlink;
      info.mode = 0777;
      from_file_time(data.ftLastWriteTime, info.mtime_s, info.mtime_ns);
      return true;
    }
  }
  HANDLE handle = CreateFileW(wide.c_str(), FILE_READ_ATTRIBUTES,
                              FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                              FILE_FLAG_BACKUP_SEMANTICS | (follow ? 0 : FILE_FLAG_OPEN_REPARSE_POINT), nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    DWORD code = GetLastError();
    return missing(code) || failed(error, code);  // a link to nothing is a missing file, as stat says
  }
  BY_HANDLE_FILE_INFORMATION held{};
  bool ok = GetFileInformationByHandle(handle, &held) != 0;
  DWORD code = GetLastError();
  CloseHandle(handle);
  if (!ok) return failed(error, code);
  fill_info(path, held.dwFileAttributes, (static_cast<uint64_t>(held.nFileSizeHigh) << 32) | held.nFileSizeLow,
            held.ftLastWriteTime, info);
  return true;
}

bool list_directory(const std::string& path, std::vector<std::string>& names, std::string& error) {
  names.clear();
  std::wstring pattern = wide_path(path);
  if (!pattern.empty() && pattern.back() != L'\\' && pattern.back() != L':') pattern += L'\\';
  pattern += L'*';
  WIN32_FIND_DATAW found{};
  HANDLE find = FindFirstFileW(pattern.c_str(), &found);
  if (find == INVALID_HANDLE_VALUE) {
    DWORD code = GetLastError();
    if (code == ERROR_FILE_NOT_FOUND) return true;  // nothing at all, not even . (a drive's root)
    return failed(error, code);
  }
  do {
    std::string name = narrow(found.cFileName, wcslen(found.cFileName));
    if (name != "." && name != "..") names.push_back(std::move(name));
  } while (FindNextFileW(find, &found));
  DWORD code = GetLastError();
  FindClose(find);
  if (code != ERROR_NO_MORE_FILES) return failed(error, code);
  std::sort(names.begin(), names.end());
  return true;
}

bool read_symlink(const std::string& path, std::string& target, std::string& error) {
  HANDLE handle = CreateFileW(wide_path(path).c_str(), 0, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                              nullptr, OPEN_EXISTING, FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS,
                              nullptr);
  if (handle == INVALID_HANDLE_VALUE) return failed(error);
  std::vector<unsigned char> buffer(MAXIMUM_REPARSE_DATA_BUFFER_SIZE);
  DWORD got = 0;
  bool ok = DeviceIoControl(handle, FSCTL_GET_REPARSE_POINT, nullptr, 0, buffer.data(),
                            static_cast<DWORD>(buffer.size()), &got, nullptr) != 0;
  DWORD code = GetLastError();
  CloseHandle(handle);
  if (!ok) return failed(error, code);
  ReparseData head{};
  if (got < sizeof head) return (error = "a reparse point without a target", false);
  std::memcpy(&head, buffer.data(), sizeof head);
  if (!is_link_tag(head.tag)) return (error = "a reparse point that is not a link", false);
  // A symbolic link's path buffer follows its flags; a junction's follows the offsets directly.
  size_t names_at = sizeof head + (head.tag == IO_REPARSE_TAG_SYMLINK ? sizeof(ULONG) : 0);
  ULONG flags = 0;
  if (head.tag == IO_REPARSE_TAG_SYMLINK) std::memcpy(&flags, buffer.data() + sizeof head, sizeof flags);
  bool print = head.print_length > 0;
  size_t offset = names_at + (print ? head.print_offset : head.substitute_offset);
  size_t length = print ? head.print_length : head.substitute_length;
  if (offset + length > got) return (error = "a reparse point with a damaged target", false);
  std::wstring name(length / sizeof(wchar_t), L'\0');
  std::memcpy(name.data(), buffer.data() + offset, name.size() * sizeof(wchar_t));
  if (!print && name.rfind(L"\\??\\", 0) == 0) name.erase(0, 4);
  target = narrow(name);
  // A relative target travels as POSIX writes it, so that it means the same on the other side.
  if ((flags & kSymlinkRelative) != 0) std::replace(target.begin(), target.end(), '\\', '/');
  return true;
}

int open_for_reading(const std::string& path, std::string& error) {
  HANDLE handle = INVALID_HANDLE_VALUE;
  if (path == "-") {
    HANDLE input = GetStdHandle(STD_INPUT_HANDLE);
    if (input == nullptr || input == INVALID_HANDLE_VALUE) return (error = "no standard input", -1);
    if (!DuplicateHandle(GetCurrentProcess(), input, GetCurrentProcess(), &handle, 0, FALSE, DUPLICATE_SAME_ACCESS))
      return failed(error) ? 0 : -1;
  } else {
    handle = CreateFileW(wide_path(path).c_str(), GENERIC_READ, FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE,
                         nullptr, OPEN_EXISTING, FILE_FLAG_SEQUENTIAL_SCAN, nullptr);
    if (handle == INVALID_HANDLE_VALUE) return failed(error) ? 0 : -1;
  }
  return descriptor_of(handle, _O_RDONLY, error);
}

long read_file(int file, char* buffer, size_t size, std::string& error) {
  DWORD got = 0;
  DWORD want = static_cast<DWORD>(std::min<size_t>(size, 1u << 30));
  if (ReadFile(handle_of(file), buffer, want, &got, nullptr)) return static_cast<long>(got);
  DWORD code = GetLastError();
  if (code == ERROR_BROKEN_PIPE || code == ERROR_HANDLE_EOF) return 0;  // a pipe's writer is done
  failed(error, code);
  return -1;
}

int create_temporary(const std::string& directory, const std::string& prefix, std::string& path, std::string& error,
                     uint32_t) {
  DWORD code = ERROR_FILE_EXISTS;
  for (int attempt = 0; attempt < 16; ++attempt) {
    path = join_path(directory, prefix + random_name_suffix());
    // FILE_SHARE_DELETE: the extractor removes a file it gives up before closing it.
    HANDLE handle = CreateFileW(wide_path(path).c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_DELETE, nullptr,
                                CREATE_NEW, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
    if (handle != INVALID_HANDLE_VALUE) return descriptor_of(handle, _O_RDWR, error);
    code = GetLastError();
    if (code != ERROR_FILE_EXISTS && code != ERROR_ALREADY_EXISTS) break;
  }
  failed(error, code);
  return -1;
}

int open_partial(const std::string& path, uint32_t, uint64_t& size, uint32_t& mode, std::string& error) {
  // No read or write sharing is the lock: a second copy's open fails with a sharing violation
  // for as long as this one holds the file, and it ends with the handle, however the process ends.
  HANDLE handle = CreateFileW(wide_path(path).c_str(), GENERIC_READ | GENERIC_WRITE, FILE_SHARE_DELETE, nullptr,
                              OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL | FILE_FLAG_OPEN_REPARSE_POINT, nullptr);
  if (handle == INVALID_HANDLE_VALUE) {
    DWORD code = GetLastError();
    if (code == ERROR_SHARING_VIOLATION || code == ERROR_LOCK_VIOLATION) return kPartialBusy;
    return failed(error, code) ? 0 : -1;
  }
  BY_HANDLE_FILE_INFORMATION held{};
  std::string refused;
  if (!GetFileInformationByHandle(handle, &held))
    refused = detail::system_error_text(GetLastError());
  else if (GetFileType(handle) != FILE_TYPE_DISK ||
           (held.dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0)
    refused = "not a regular file";
  else if (held.nNumberOfLinks != 1)
    refused = "linked elsewhere";
  else
    refused = foreign_owner(handle);
  if (!refused.empty()) {
    CloseHandle(handle);
    error = refused;
    return -1;
  }
  size = (static_cast<uint64_t>(held.nFileSizeHigh) << 32) | held.nFileSizeLow;
  mode = kModeUnknown;  // the read-only attribute is set when the file is complete, whatever it is now
  return descriptor_of(handle, _O_RDWR, error);
}

bool truncate_file(int file, uint64_t size, std::string& error) {
  HANDLE handle = handle_of(file);
  LARGE_INTEGER at;
  at.QuadPart = static_cast<LONGLONG>(size);
  if (!SetFilePointerEx(handle, at, nullptr, FILE_BEGIN) || !SetEndOfFile(handle)) return failed(error);
  return true;
}

bool write_file(int file, const char* data, size_t size, std::string& error) {
  HANDLE handle = handle_of(file);
  while (size > 0) {
    DWORD wrote = 0;
    if (!WriteFile(handle, data, static_cast<DWORD>(std::min<size_t>(size, 1u << 30)), &wrote, nullptr))
      return failed(error);
    data += wrote;
    size -= wrote;
  }
  return true;
}

bool close_file(int file, std::string& error) {
  if (_close(file) == 0) return true;
  error = std::strerror(errno);
  return false;
}

bool rename_into_place(const std::string& from, const std::string& to, bool no_clobber, std::string& error) {
  std::wstring source = wide_path(from), target = wide_path(to);
  // Without MOVEFILE_REPLACE_EXISTING the move fails if `to` exists, atomically.
  DWORD flags = no_clobber ? 0 : MOVEFILE_REPLACE_EXISTING;
  if (MoveFileExW(source.c_str(), target.c_str(), flags)) return true;
  DWORD code = GetLastError();
  if (code == ERROR_ACCESS_DENIED && !no_clobber && clear_read_only(target) &&
      MoveFileExW(source.c_str(), target.c_str(), flags))
    return true;
  return failed(error, code);
}

bool remove_file(const std::string& path) {
  std::wstring wide = wide_path(path);
  if (DeleteFileW(wide.c_str())) return true;
  DWORD attributes = GetFileAttributesW(wide.c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) return false;
  // A symbolic link to a directory is a directory entry of its own kind.
  if ((attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
    return (attributes & FILE_ATTRIBUTE_REPARSE_POINT) != 0 && RemoveDirectoryW(wide.c_str());
  return clear_read_only(wide) && DeleteFileW(wide.c_str());
}

bool make_directory(const std::string& path, std::string& error) {
  std::wstring wide = wide_path(path);
  if (CreateDirectoryW(wide.c_str(), nullptr)) return true;
  DWORD code = GetLastError();
  if (code == ERROR_ALREADY_EXISTS) {
    DWORD attributes = GetFileAttributesW(wide.c_str());
    if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0 &&
        (attributes & FILE_ATTRIBUTE_REPARSE_POINT) == 0)
      return true;
  }
  return failed(error, code);
}

bool make_symlink(const std::string& target, const std::string& path, std::string& error) {
  std::wstring link = wide_path(path), to = wide_path(target);
  // Windows links to files and to directories differently: what the target is now decides.
  std::wstring resolved = to;
  bool absolute = is_absolute_path(target);
  if (!absolute) {
    size_t slash = link.find_last_of(L'\\');
    if (slash != std::wstring::npos) resolved = link.substr(0, slash + 1) + to;
  }
  DWORD attributes = GetFileAttributesW(resolved.c_str());
  DWORD flags = SYMBOLIC_LINK_FLAG_ALLOW_UNPRIVILEGED_CREATE;
  if (attributes != INVALID_FILE_ATTRIBUTES && (attributes & FILE_ATTRIBUTE_DIRECTORY) != 0)
    flags |= SYMBOLIC_LINK_FLAG_DIRECTORY;
  if (CreateSymbolicLinkW(link.c_str(), to.c_str(), flags)) {
    // Wine's CreateSymbolicLinkW is a stub that succeeds without making anything.
    DWORD made = GetFileAttributesW(link.c_str());
    if (made != INVALID_FILE_ATTRIBUTES && (made & FILE_ATTRIBUTE_REPARSE_POINT) != 0) return true;
    return (error = "this system reported a symbolic link made, but there is none", false);
  }
  DWORD code = GetLastError();
  if (code == ERROR_PRIVILEGE_NOT_HELD)
    return (error = "creating symbolic links needs Developer Mode or the SeCreateSymbolicLinkPrivilege", false);
  return failed(error, code);
}

bool set_attributes(const std::string& path, const FileInfo& wanted, unsigned what, std::string& error) {
  std::wstring wide = wide_path(path);
  if ((what & kSetTimes) != 0) {
    HANDLE handle = CreateFileW(wide.c_str(), FILE_WRITE_ATTRIBUTES,
                                FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE, nullptr, OPEN_EXISTING,
                                FILE_FLAG_OPEN_REPARSE_POINT | FILE_FLAG_BACKUP_SEMANTICS, nullptr);
    if (handle == INVALID_HANDLE_VALUE) return failed(error);
    FILETIME written = to_file_time(wanted.mtime_s, wanted.mtime_ns);
    bool ok = SetFileTime(handle, nullptr, nullptr, &written) != 0;
    DWORD code = GetLastError();
    CloseHandle(handle);
    if (!ok) return failed(error, code);
  }
  // The owner's write bit is the only one Windows has a place for, and only on files: a read-only
  // directory means something else there.
  if ((what & kSetMode) == 0 || wanted.type == FileInfo::Type::Symlink) return true;
  DWORD attributes = GetFileAttributesW(wide.c_str());
  if (attributes == INVALID_FILE_ATTRIBUTES) return failed(error);
  if ((attributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_REPARSE_POINT)) != 0) return true;
  DWORD settable = attributes & (FILE_ATTRIBUTE_READONLY | FILE_ATTRIBUTE_HIDDEN | FILE_ATTRIBUTE_SYSTEM |
                                 FILE_ATTRIBUTE_ARCHIVE | FILE_ATTRIBUTE_NOT_CONTENT_INDEXED);
  DWORD want = (wanted.mode & 0200) != 0 ? settable & ~static_cast<DWORD>(FILE_ATTRIBUTE_READONLY)
                                         : settable | FILE_ATTRIBUTE_READONLY;
  if (want == settable) return true;
  if (!SetFileAttributesW(wide.c_str(), want == 0 ? FILE_ATTRIBUTE_NORMAL : want)) return failed(error);
  return true;
}

// No handle: the path, with names joined to it.
Directory::~Directory() { close(); }

bool Directory::open(const std::string& path, bool follow, std::string& error) {
  close();
  FileInfo info;
  if (!file_info(path, follow, info, error)) return false;
  if (info.type != FileInfo::Type::Directory) {
    error = info.type == FileInfo::Type::Missing ? "No such file or directory" : "not a directory";
    return false;
  }
  path_ = path;
  open_ = true;
  return true;
}

void Directory::close() {
  open_ = false;
  path_.clear();
}

bool Directory::info(const std::string& name, FileInfo& info, std::string& error) const {
  return file_info(join_path(path_, name), false, info, error);
}

int Directory::open_for_reading(const std::string& name, std::string& error) const {
  return platform::open_for_reading(join_path(path_, name), error);
}

int Directory::create_temporary(const std::string& prefix, std::string& name, std::string& error, uint32_t mode) const {
  std::string path;
  int file = platform::create_temporary(path_, prefix, path, error, mode);
  if (file >= 0) name = path.substr(last_separator(path) + 1);
  return file;
}

int Directory::open_partial(const std::string& name, uint32_t create_mode, uint64_t& size, uint32_t& mode,
                            std::string& error) const {
  return platform::open_partial(join_path(path_, name), create_mode, size, mode, error);
}

bool Directory::set_attributes(const std::string& name, const FileInfo& wanted, unsigned what,
                               std::string& error) const {
  return platform::set_attributes(join_path(path_, name), wanted, what, error);
}

bool Directory::rename_into_place(const std::string& from, const std::string& to, bool no_clobber,
                                  std::string& error) const {
  return platform::rename_into_place(join_path(path_, from), join_path(path_, to), no_clobber, error);
}

bool Directory::remove_file(const std::string& name) const { return platform::remove_file(join_path(path_, name)); }

uint32_t apply_umask(uint32_t mode) { return mode & 0777; }

uint32_t mode_when_created(uint32_t) { return kModeUnknown; }  // the read-only attribute is set at the end

bool may_change_owner() { return false; }

std::string join_path(const std::string& directory, const std::string& relative) {
  std::string tail = relative;
  std::replace(tail.begin(), tail.end(), '/', '\\');
  if (directory.empty()) return tail;
  char last = directory.back();
  if (last == '/' || last == '\\' || (directory.size() == 2 && last == ':')) return directory + tail;
  return directory + "\\" + tail;
}

bool is_absolute_path(const std::string& path) {
  if (path.empty()) return false;
  if (path[0] == '/' || path[0] == '\\') return true;  // the current drive's root, or \\server\share
  return path.size() >= 2 && path[1] == ':' && std::isalpha(static_cast<unsigned char>(path[0]));
}

size_t last_separator(const std::string& path) { return path.find_last_of("/\\"); }

std::string parent_directory(const std::string& path) {
  size_t slash = last_separator(path);
  if (slash == std::string::npos) return ".";
  if (slash == 0) return path.substr(0, 1);
  if (slash == 2 && path[1] == ':') return path.substr(0, 3);  // C:\ itself, not C: (a current directory)
  return path.substr(0, slash);
}

const char* name_refusal(std::string_view component) {
  if (component.find_first_of("\\:") != std::string_view::npos)
    return "a name with a '\\' or ':' (a path or a stream on Windows)";
  // Windows drops trailing dots and spaces: "..." or ". ." would name this directory or its parent.
  if (component.find_first_not_of(". ") == std::string_view::npos) return "a name of only dots and spaces";
  return nullptr;
}

}  // namespace hvterm::platform
