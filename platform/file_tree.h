#pragma once
// The platform seam, files and directories as hvterm cp reads and writes them: what a path is
// (without following a last symlink), reading a file, creating one under a temporary name and
// renaming it into place, directories, symlinks, the attributes -p keeps, and how this OS spells a
// path (separators, what is absolute, which names it cannot hold). Errors are one line naming the
// cause; the caller names the file.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace hvterm::platform {

struct FileInfo {
  enum class Type { Missing, File, Directory, Symlink, Other };
  Type type = Type::Missing;
  uint64_t size = 0;
  uint32_t mode = 0;  // permission bits (07777)
  int64_t mtime_s = 0;
  uint32_t mtime_ns = 0;
  uint32_t uid = 0, gid = 0;
};

// lstat (or stat with `follow`). A path that does not exist is Type::Missing, not an error.
bool file_info(const std::string& path, bool follow, FileInfo& info, std::string& error);
// The names in a directory (not . and ..), sorted bytewise.
bool list_directory(const std::string& path, std::vector<std::string>& names, std::string& error);
bool read_symlink(const std::string& path, std::string& target, std::string& error);

// An open file: a descriptor of this OS's kind, or -1.
int open_for_reading(const std::string& path, std::string& error);
// Bytes read (0 at the end), or -1 with `error` set.
long read_file(int file, char* buffer, size_t size, std::string& error);
// 12 hex digits for a temporary name, different on every call: a random start (zeros if the OS gives
// no randomness), counted up. The exclusive create refuses a name that is taken all the same.
std::string random_name_suffix();
// A new file in `directory` with a name no one else has (prefix + random), open for writing, with
// the permission bits `mode` less the umask (where the platform has them).
int create_temporary(const std::string& directory, const std::string& prefix, std::string& path, std::string& error,
                     uint32_t mode = 0600);
// The permission bits a file created with `mode` gets, or kModeUnknown where that cannot be told
// without asking the file system (set-id bits; platforms with no such bits).
uint32_t mode_when_created(uint32_t mode);
// The file a copy keeps its partial bytes in, so that an interrupted copy can be resumed: opened
// for reading and writing (created empty with the permission bits `create_mode`, less the umask,
// if missing), locked for this copy alone, and only if it is a regular file this process owns with
// one link (never through a symlink). Returns -1 with `error`, or kPartialBusy when another copy
// holds it. `size` is what it holds; `mode` its permission bits (kModeUnknown where a platform has
// none to compare with the wanted ones, and they are set anyway).
inline constexpr int kPartialBusy = -2;
inline constexpr uint32_t kModeUnknown = ~0u;
int open_partial(const std::string& path, uint32_t create_mode, uint64_t& size, uint32_t& mode, std::string& error);
// Cuts an open file to `size` bytes and writes from there on.
bool truncate_file(int file, uint64_t size, std::string& error);
bool write_file(int file, const char* data, size_t size, std::string& error);
bool close_file(int file, std::string& error);
// Rename over `to` (a file or symlink there is replaced); with `no_clobber`, fails if `to` exists.
bool rename_into_place(const std::string& from, const std::string& to, bool no_clobber, std::string& error);
bool remove_file(const std::string& path);
// A directory (mode 0700 until attributes are set); an existing directory is fine.
bool make_directory(const std::string& path, std::string& error);
bool make_symlink(const std::string& target, const std::string& path, std::string& error);
// Which attributes set_attributes applies: the mode (never a symlink's), mtime, owner (root only).
inline constexpr unsigned kSetMode = 1, kSetTimes = 2, kSetOwner = 4;
// Never follows a symlink.
bool set_attributes(const std::string& path, const FileInfo& wanted, unsigned what, std::string& error);
// The permission bits this process's umask leaves of `mode`, as a new file would get them.
uint32_t apply_umask(uint32_t mode);
// Whether this process may give files away (root on POSIX).
bool may_change_owner();
// A directory held open, for the work a tree of small files does in it: its names are looked up
// from it, not from the root again each time (a tree of small files spends much of its time in
// such lookups), and it stays the directory it was when opened, whatever is renamed above it
// meanwhile. Where a platform has no such handle (Windows), it keeps the path and joins names to it.
class Directory {
 public:
  Directory() = default;
  ~Directory();
  Directory(const Directory&) = delete;
  Directory& operator=(const Directory&) = delete;
  // `path` itself; through a symlink as its last component only with `follow`. Any earlier one is
  // closed.
  bool open(const std::string& path, bool follow, std::string& error);
  void close();
  bool is_open() const { return open_; }
  const std::string& path() const { return path_; }
  // As the functions above do with join_path(path(), name): info never follows a symlink, and
  // create_temporary gives back the name it made.
  bool info(const std::string& name, FileInfo& info, std::string& error) const;
  int open_for_reading(const std::string& name, std::string& error) const;
  int create_temporary(const std::string& prefix, std::string& name, std::string& error, uint32_t mode = 0600) const;
  int open_partial(const std::string& name, uint32_t create_mode, uint64_t& size, uint32_t& mode,
                   std::string& error) const;
  bool set_attributes(const std::string& name, const FileInfo& wanted, unsigned what, std::string& error) const;
  bool rename_into_place(const std::string& from, const std::string& to, bool no_clobber, std::string& error) const;
  bool remove_file(const std::string& name) const;

 private:
  std::string path_;
  bool open_ = false;
  int handle_ = -1;
};

// This OS's way to join a directory and a '/'-separated relative path.
std::string join_path(const std::string& directory, const std::string& relative);
// A path that does not depend on a current directory: /x on POSIX; C:\x, C:/x, \\server\share
// and \x on Windows.
bool is_absolute_path(const std::string& path);
// Where the last separator of `path` is ('/', and '\\' on Windows), or npos.
size_t last_separator(const std::string& path);
// What holds the last component of `path`: "." without a separator, a root keeps its own ("/", "C:\\").
std::string parent_directory(const std::string& path);
// Why a '/'-separated component from a copy stream cannot be a name here (it would mean a path, a
// drive or a parent on this OS), or nullptr.
const char* name_refusal(std::string_view component);

}  // namespace hvterm::platform
