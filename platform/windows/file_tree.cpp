// Files and directories for hvterm cp, Windows: not there yet. Every operation says so in one line,
// so a Windows agent refuses a copy cleanly and the client names the reason.
#include "platform/file_tree.h"

namespace hvterm::platform {
namespace {

constexpr const char* kNotYet = "copying files is not supported on Windows yet";

bool not_yet(std::string& error) {
  error = kNotYet;
  return false;
}

}  // namespace

bool file_info(const std::string&, bool, FileInfo& info, std::string& error) {
  info = FileInfo{};
  return not_yet(error);
}
bool list_directory(const std::string&, std::vector<std::string>& names, std::string& error) {
  names.clear();
  return not_yet(error);
}
bool read_symlink(const std::string&, std::string&, std::string& error) { return not_yet(error); }
int open_for_reading(const std::string&, std::string& error) { return not_yet(error) ? 0 : -1; }
long read_file(int, char*, size_t, std::string& error) { return not_yet(error) ? 0 : -1; }
int create_temporary(const std::string&, const std::string&, std::string&, std::string& error) {
  return not_yet(error) ? 0 : -1;
}
int open_partial(const std::string&, uint64_t&, std::string& error) { return not_yet(error) ? 0 : -1; }
bool truncate_file(int, uint64_t, std::string& error) { return not_yet(error); }
bool write_file(int, const char*, size_t, std::string& error) { return not_yet(error); }
bool close_file(int, std::string& error) { return not_yet(error); }
bool rename_into_place(const std::string&, const std::string&, bool, std::string& error) { return not_yet(error); }
bool remove_file(const std::string&) { return false; }
bool make_directory(const std::string&, std::string& error) { return not_yet(error); }
bool make_symlink(const std::string&, const std::string&, std::string& error) { return not_yet(error); }
bool set_attributes(const std::string&, const FileInfo&, unsigned, std::string& error) { return not_yet(error); }
uint32_t apply_umask(uint32_t mode) { return mode & 0777; }
bool may_change_owner() { return false; }
std::string join_path(const std::string& directory, const std::string& relative) {
  if (directory.empty()) return relative;
  return directory + "/" + relative;
}

}  // namespace hvterm::platform
