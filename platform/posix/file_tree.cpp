// Files and directories for hvterm cp, POSIX: plain system calls, never following a last symlink
// where the name came from a copy stream.
#include "platform/file_tree.h"

#include <dirent.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "platform/system.h"

namespace hvterm::platform {
namespace {

bool failed(std::string& error) {
  error = std::strerror(errno);
  return false;
}

FileInfo::Type type_of(mode_t mode) {
  if (S_ISREG(mode)) return FileInfo::Type::File;
  if (S_ISDIR(mode)) return FileInfo::Type::Directory;
  if (S_ISLNK(mode)) return FileInfo::Type::Symlink;
  return FileInfo::Type::Other;
}

}  // namespace

namespace {

bool info_at(int directory, const char* name, bool follow, FileInfo& info, std::string& error) {
  struct stat st {};
  info = FileInfo{};
  if (fstatat(directory, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW) != 0) {
    if (errno == ENOENT) return true;
    return failed(error);
  }
  info.type = type_of(st.st_mode);
  info.size = static_cast<uint64_t>(st.st_size);
  info.mode = st.st_mode & 07777;
  info.mtime_s = st.st_mtim.tv_sec;
  info.mtime_ns = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  info.uid = st.st_uid;
  info.gid = st.st_gid;
  return true;
}

int open_for_reading_at(int directory, const char* name, std::string& error) {
  int fd = openat(directory, name, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) failed(error);
  return fd;
}

int create_temporary_at(int directory, const std::string& prefix, std::string& name, std::string& error,
                        uint32_t mode) {
  for (int attempt = 0; attempt < 16; ++attempt) {
    name = prefix + random_name_suffix();
    int fd = openat(directory, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode & 07777);
    if (fd >= 0) return fd;
    if (errno != EEXIST) break;
  }
  failed(error);
  return -1;
}

bool rename_at(int from_directory, const char* from, int to_directory, const char* to, bool no_clobber,
               std::string& error) {
  if (no_clobber) {
    // link() fails if `to` exists, atomically, where a check and a rename would race.
    if (linkat(from_directory, from, to_directory, to, 0) != 0) return failed(error);
    unlinkat(from_directory, from, 0);
    return true;
  }
  return renameat(from_directory, from, to_directory, to) == 0 || failed(error);
}

}  // namespace

bool file_info(const std::string& path, bool follow, FileInfo& info, std::string& error) {
  return info_at(AT_FDCWD, path.c_str(), follow, info, error);
}

bool list_directory(const std::string& path, std::vector<std::string>& names, std::string& error) {
  names.clear();
  DIR* dir = opendir(path.c_str());
  if (dir == nullptr) return failed(error);
  errno = 0;
  while (dirent* entry = readdir(dir)) {
    std::string name = entry->d_name;
    if (name != "." && name != "..") names.push_back(std::move(name));
  }
  int read_error = errno;
  closedir(dir);
  if (read_error != 0) {
    errno = read_error;
    return failed(error);
  }
  std::sort(names.begin(), names.end());
  return true;
}

bool read_symlink(const std::string& path, std::string& target, std::string& error) {
  std::string buffer(4096, '\0');
  ssize_t n = readlink(path.c_str(), buffer.data(), buffer.size());
  if (n < 0) return failed(error);
  buffer.resize(static_cast<size_t>(n));
  target = std::move(buffer);
  return true;
}

int open_for_reading(const std::string& path, std::string& error) {
  if (path != "-") return open_for_reading_at(AT_FDCWD, path.c_str(), error);
  int fd = dup(0);
  if (fd < 0) failed(error);
  return fd;
}

long read_file(int file, char* buffer, size_t size, std::string& error) {
  for (;;) {
    ssize_t n = read(file, buffer, size);
    if (n >= 0) return static_cast<long>(n);
    if (errno == EINTR) continue;
    if (errno == EAGAIN) {  // stdin left non-blocking by someone: wait for it
      usleep(1000);
      continue;
    }
    failed(error);
    return -1;
  }
}

int create_temporary(const std::string& directory, const std::string& prefix, std::string& path, std::string& error,
                     uint32_t mode) {
  std::string name;
  int fd = create_temporary_at(AT_FDCWD, join_path(directory, prefix), name, error, mode);
  path = std::move(name);
  return fd;
}

namespace {

int open_partial_once(int directory, const char* name, uint32_t create_mode, struct stat& st, std::string& error) {
  // O_NONBLOCK: a FIFO under this name must not block the open (it is refused below); it changes
  // nothing for the regular file we keep.
  int fd = openat(directory, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK, create_mode & 07777);
  if (fd < 0) return failed(error) ? 0 : -1;
  static const uid_t us = geteuid();
  const char* refused = nullptr;
  if (fstat(fd, &st) != 0)
    refused = std::strerror(errno);
  else if (!S_ISREG(st.st_mode))
    refused = "not a regular file";
  else if (st.st_uid != us || st.st_nlink != 1)
    refused = "owned by another user, or linked elsewhere";
  if (refused != nullptr) {
    error = refused;
    close(fd);
    return -1;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
    int why = errno;
    close(fd);
    if (why == EWOULDBLOCK) return kPartialBusy;
    error = std::strerror(why);
    return -1;
  }
  return fd;
}

int open_partial_at(int directory, const char* name, uint32_t create_mode, uint64_t& size, uint32_t& mode,
                    std::string& error) {
  // The copy that held the lock may have renamed or removed the file before letting go of it:
  // then what we locked is no longer under this name, and we try the name again.
  for (int attempt = 0; attempt < 8; ++attempt) {
    struct stat held, named;
    int fd = open_partial_once(directory, name, create_mode, held, error);
    if (fd < 0) return fd;
    if (fstatat(directory, name, &named, 0) == 0 && named.st_ino == held.st_ino && named.st_dev == held.st_dev) {
      size = static_cast<uint64_t>(held.st_size);
      mode = held.st_mode & 07777;
      return fd;
    }
    close(fd);
  }
  return kPartialBusy;
}

}  // namespace

int open_partial(const std::string& path, uint32_t create_mode, uint64_t& size, uint32_t& mode, std::string& error) {
  return open_partial_at(AT_FDCWD, path.c_str(), create_mode, size, mode, error);
}

bool truncate_file(int file, uint64_t size, std::string& error) {
  if (ftruncate(file, static_cast<off_t>(size)) != 0 || lseek(file, static_cast<off_t>(size), SEEK_SET) < 0)
    return failed(error);
  return true;
}

bool write_file(int file, const char* data, size_t size, std::string& error) {
  while (size > 0) {
    ssize_t n = write(file, data, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {  // stdout that libuv made non-blocking: wait until it takes more
        pollfd p{file, POLLOUT, 0};
        poll(&p, 1, -1);
        continue;
      }
      return failed(error);
    }
    data += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

bool close_file(int file, std::string& error) { return close(file) == 0 || failed(error); }

bool rename_into_place(const std::string& from, const std::string& to, bool no_clobber, std::string& error) {
  return rename_at(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), no_clobber, error);
}

bool remove_file(const std::string& path) { return unlink(path.c_str()) == 0; }

bool make_directory(const std::string& path, std::string& error) {
  if (mkdir(path.c_str(), 0700) == 0) return true;
  if (errno == EEXIST) {
    struct stat st {};
    if (lstat(path.c_str(), &st) == 0 && S_ISDIR(st.st_mode)) return true;
    errno = EEXIST;
  }
  return failed(error);
}

bool make_symlink(const std::string& target, const std::string& path, std::string& error) {
  return symlink(target.c_str(), path.c_str()) == 0 || failed(error);
}

namespace {

bool set_attributes_by_name(int directory, const char* name, const FileInfo& wanted, unsigned what,
                            std::string& error) {
  bool link = wanted.type == FileInfo::Type::Symlink;
  if ((what & kSetOwner) != 0 && fchownat(directory, name, wanted.uid, wanted.gid, AT_SYMLINK_NOFOLLOW) != 0)
    return failed(error);
  // After the owner: chown clears set-id bits. glibc refuses a symlink here rather than follow it.
  if ((what & kSetMode) != 0 && !link && fchmodat(directory, name, wanted.mode & 07777, AT_SYMLINK_NOFOLLOW) != 0)
    return failed(error);
  timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(wanted.mtime_s), static_cast<long>(wanted.mtime_ns)}};
  if ((what & kSetTimes) != 0 && utimensat(directory, name, times, AT_SYMLINK_NOFOLLOW) != 0) return failed(error);
  return true;
}

bool set_attributes_at(int directory, const char* name, const FileInfo& wanted, unsigned what, std::string& error) {
  if (wanted.type == FileInfo::Type::Symlink) return set_attributes_by_name(directory, name, wanted, what, error);
  // Through a descriptor opened without following a last symlink: a directory that someone else
  // swapped for a symlink meanwhile must not lend its mode, owner or time to what the link names.
  int fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    // A directory we may change but not read: by name, with the *at calls that do not follow.
    if (errno == EACCES) return set_attributes_by_name(directory, name, wanted, what, error);
    return failed(error);
  }
  timespec times[2] = {{0, UTIME_OMIT}, {static_cast<time_t>(wanted.mtime_s), static_cast<long>(wanted.mtime_ns)}};
  bool ok = ((what & kSetOwner) == 0 || fchown(fd, wanted.uid, wanted.gid) == 0) &&
            ((what & kSetMode) == 0 || fchmod(fd, wanted.mode & 07777) == 0) &&  // after chown: it clears set-id bits
            ((what & kSetTimes) == 0 || futimens(fd, times) == 0);
  if (!ok) failed(error);
  close(fd);
  return ok;
}

}  // namespace

bool set_attributes(const std::string& path, const FileInfo& wanted, unsigned what, std::string& error) {
  return set_attributes_at(AT_FDCWD, path.c_str(), wanted, what, error);
}

Directory::~Directory() { close(); }

bool Directory::open(const std::string& path, bool follow, std::string& error) {
  close();
  handle_ = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | (follow ? 0 : O_NOFOLLOW));
  if (handle_ < 0) return failed(error);
  path_ = path;
  open_ = true;
  return true;
}

void Directory::close() {
  if (handle_ >= 0) ::close(handle_);
  handle_ = -1;
  open_ = false;
  path_.clear();
}

bool Directory::info(const std::string& name, FileInfo& info, std::string& error) const {
  return info_at(handle_, name.c_str(), false, info, error);
}

int Directory::open_for_reading(const std::string& name, std::string& error) const {
  return open_for_reading_at(handle_, name.c_str(), error);
}

int Directory::create_temporary(const std::string& prefix, std::string& name, std::string& error, uint32_t mode) const {
  return create_temporary_at(handle_, prefix, name, error, mode);
}

int Directory::open_partial(const std::string& name, uint32_t create_mode, uint64_t& size, uint32_t& mode,
                            std::string& error) const {
  return open_partial_at(handle_, name.c_str(), create_mode, size, mode, error);
}

bool Directory::set_attributes(const std::string& name, const FileInfo& wanted, unsigned what,
                               std::string& error) const {
  return set_attributes_at(handle_, name.c_str(), wanted, what, error);
}

bool Directory::rename_into_place(const std::string& from, const std::string& to, bool no_clobber,
                                  std::string& error) const {
  return rename_at(handle_, from.c_str(), handle_, to.c_str(), no_clobber, error);
}

bool Directory::remove_file(const std::string& name) const { return unlinkat(handle_, name.c_str(), 0) == 0; }

uint32_t apply_umask(uint32_t mode) {
  // Read once: only setting it reads it, and neither program changes it (a tree asks per file).
  static const mode_t mask = [] {
    mode_t m = umask(022);
    umask(m);
    return m;
  }();
  return mode & 0777 & ~static_cast<uint32_t>(mask);
}

uint32_t mode_when_created(uint32_t mode) {
  // The kernel may drop a set-group-id bit (a group we are not in): only the file can tell then.
  return (mode & 07000) != 0 ? kModeUnknown : apply_umask(mode);
}

bool may_change_owner() { return geteuid() == 0; }

std::string join_path(const std::string& directory, const std::string& relative) {
  if (directory.empty()) return relative;
  if (directory.back() == '/') return directory + relative;
  return directory + "/" + relative;
}

bool is_absolute_path(const std::string& path) { return !path.empty() && path.front() == '/'; }

size_t last_separator(const std::string& path) { return path.find_last_of('/'); }

std::string parent_directory(const std::string& path) {
  size_t slash = path.find_last_of('/');
  return slash == std::string::npos ? "." : slash == 0 ? "/" : path.substr(0, slash);
}

const char* name_refusal(std::string_view) { return nullptr; }

}  // namespace hvterm::platform
