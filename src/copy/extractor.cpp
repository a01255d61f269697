#include "copy/extractor.h"

#include <algorithm>
#include <utility>

#include "common/printable.h"

namespace hvterm::copy {
namespace {

using platform::FileInfo;

FileInfo wanted_of(const Entry& e, FileInfo::Type type) {
  FileInfo info;
  info.type = type;
  info.mode = e.mode & 07777;
  info.mtime_s = e.mtime_s;
  info.mtime_ns = e.mtime_ns;
  info.uid = e.uid;
  info.gid = e.gid;
  return info;
}

constexpr const char* kTempPrefix = ".hvterm-cp-";

}  // namespace

bool place(const std::string& dest, bool into, Placement& placement, std::string& error) {
  placement = Placement{};
  if (dest == "-") {
    if (into) return (error = "-: several sources cannot go to stdout", false);
    placement.to_stdout = true;
    return true;
  }
  FileInfo info;
  if (!platform::file_info(dest, true, info, error)) return (error = printable(dest) + ": " + error, false);
  if (info.type == FileInfo::Type::Directory) {
    placement.root = dest;
    return true;
  }
  if (into || dest.back() == '/') return (error = printable(dest) + ": not a directory", false);
  size_t slash = dest.find_last_of('/');
  std::string parent = slash == std::string::npos ? "." : slash == 0 ? "/" : dest.substr(0, slash);
  std::string base = slash == std::string::npos ? dest : dest.substr(slash + 1);
  if (base == "." || base == "..") return (error = printable(dest) + ": not a directory", false);
  FileInfo parent_info;
  if (!platform::file_info(parent, true, parent_info, error)) return (error = printable(parent) + ": " + error, false);
  if (parent_info.type == FileInfo::Type::Missing)
    return (error = printable(parent) + ": No such file or directory", false);
  if (parent_info.type != FileInfo::Type::Directory) return (error = printable(parent) + ": not a directory", false);
  placement.root = parent;
  placement.top_name = base;
  return true;
}

Extractor::Extractor(Placement placement, Options options, std::function<void(const std::string&)> warn,
                     std::function<bool(std::string_view, std::string&)> out)
    : placement_(std::move(placement)),
      options_(options),
      warn_(std::move(warn)),
      out_(std::move(out)),
      decoder_(*this),
      owner_(options.preserve && platform::may_change_owner()) {}

Extractor::~Extractor() { drop_file(); }

bool Extractor::feed(std::string_view bytes) {
  if (!fatal_.empty()) return false;
  if (decoder_.feed(bytes)) return true;
  fatal_ = decoder_.error();
  drop_file();
  return false;
}

bool Extractor::finish() {
  if (fatal_.empty() && !decoder_.ended()) fatal_ = "the copy stream ended early (the sender stopped)";
  drop_file();
  // Deepest first, so setting a directory's time is not undone by work in the ones below it.
  std::sort(directories_.begin(), directories_.end(),
            [](const MadeDirectory& a, const MadeDirectory& b) { return a.path > b.path; });
  for (const auto& d : directories_) {
    FileInfo wanted = wanted_of(d.entry, FileInfo::Type::Directory);
    if (!options_.preserve) wanted.mode = platform::apply_umask(wanted.mode);
    std::string error;
    if (!platform::set_attributes(d.path, wanted, attributes() | platform::kSetMode, error))
      entry_failed(d.entry.path, error);
  }
  directories_.clear();
  return fatal_.empty();
}

unsigned Extractor::attributes() const {
  return options_.preserve ? platform::kSetMode | platform::kSetTimes | (owner_ ? platform::kSetOwner : 0) : 0;
}

// Said by the name the entry has (or would have had) here, as cp names its destination files.
void Extractor::entry_failed(const std::string& name, const std::string& why) {
  failed_ = true;
  if (!warn_) return;
  std::string shown = name;
  if (!placement_.top_name.empty()) {
    size_t slash = name.find('/');
    shown = placement_.top_name + (slash == std::string::npos ? "" : name.substr(slash));
  }
  warn_(printable(placement_.to_stdout ? name : platform::join_path(placement_.root, shown)) + ": " + why);
}

std::string Extractor::local_path(const std::string& name) {
  std::string relative = name;
  size_t slash = name.find('/');
  std::string top = name.substr(0, slash);
  if (!placement_.top_name.empty()) {
    if (top_seen_.empty()) top_seen_ = top;
    if (top != top_seen_) {
      entry_failed(name, "a second top-level entry, for a destination that names one");
      return "";
    }
    relative = placement_.top_name + (slash == std::string::npos ? "" : name.substr(slash));
  }
  // Each parent must be a directory, not a symlink: nothing is written outside the destination.
  for (size_t at = relative.find('/'); at != std::string::npos; at = relative.find('/', at + 1)) {
    std::string parent = platform::join_path(placement_.root, relative.substr(0, at));
    FileInfo info;
    std::string error;
    if (!platform::file_info(parent, false, info, error)) {
      entry_failed(name, error);
      return "";
    }
    if (info.type != FileInfo::Type::Directory) {
      entry_failed(name, info.type == FileInfo::Type::Symlink   ? "would be written through a symlink"
                         : info.type == FileInfo::Type::Missing ? "its directory was not copied"
                                                                : "its parent is not a directory");
      return "";
    }
  }
  return platform::join_path(placement_.root, relative);
}

void Extractor::on_directory(const Entry& entry) {
  if (placement_.to_stdout) return entry_failed(entry.path, "a directory cannot go to stdout");
  std::string path = local_path(entry.path);
  if (path.empty()) return;
  FileInfo existing;
  std::string error;
  if (!platform::file_info(path, false, existing, error)) return entry_failed(entry.path, error);
  if (existing.type == FileInfo::Type::Directory) {
    if (options_.preserve) directories_.push_back({path, entry});
    return;
  }
  if (existing.type != FileInfo::Type::Missing) return entry_failed(entry.path, "exists and is not a directory");
  if (!platform::make_directory(path, error)) return entry_failed(entry.path, error);
  directories_.push_back({path, entry});
}

void Extractor::on_file(const Entry& entry) {
  drop_file();
  file_ = entry;
  file_bytes_ = 0;
  file_skipped_ = false;
  hasher_.reset();
  std::string error;
  if (placement_.to_stdout) {
    if (std::exchange(stdout_used_, true)) {
      entry_failed(entry.path, "only one file can go to stdout");
      file_skipped_ = true;
    }
    return;
  }
  file_final_ = local_path(entry.path);
  FileInfo existing;
  if (file_final_.empty()) {
    file_skipped_ = true;
  } else if (!platform::file_info(file_final_, false, existing, error)) {
    entry_failed(entry.path, error);
    file_skipped_ = true;
  } else if (existing.type == FileInfo::Type::Directory) {
    entry_failed(entry.path, "is a directory");
    file_skipped_ = true;
  } else if (options_.no_clobber && existing.type != FileInfo::Type::Missing) {
    entry_failed(entry.path, "exists (--no-clobber)");
    file_skipped_ = true;
  } else {
    size_t slash = file_final_.find_last_of('/');
    std::string directory = slash == std::string::npos ? "." : file_final_.substr(0, slash == 0 ? 1 : slash);
    file_fd_ = platform::create_temporary(directory, kTempPrefix, file_temp_, error);
    if (file_fd_ < 0) {
      entry_failed(entry.path, error);
      file_skipped_ = true;
    }
  }
}

void Extractor::on_data(std::string_view bytes) {
  file_bytes_ += bytes.size();
  if (file_skipped_) return;
  hasher_.update(bytes.data(), bytes.size());
  std::string error;
  bool ok = placement_.to_stdout ? (out_ && out_(bytes, error))
                                 : platform::write_file(file_fd_, bytes.data(), bytes.size(), error);
  if (!ok) {
    entry_failed(file_.path, error.empty() ? "cannot be written" : error);
    drop_file();
    file_skipped_ = true;
    return;
  }
  bytes_ += bytes.size();
}

void Extractor::on_file_end(uint64_t size, const Checksum& checksum) {
  if (file_skipped_) return drop_file();
  std::string error;
  if (size != file_bytes_)
    entry_failed(file_.path,
                 "the sender said " + std::to_string(size) + " bytes and sent " + std::to_string(file_bytes_));
  else if (hasher_.digest() != checksum)
    entry_failed(file_.path, "checksum mismatch: the bytes were damaged on the way");
  else if (placement_.to_stdout)
    return;
  else if (!platform::close_file(std::exchange(file_fd_, -1), error))
    entry_failed(file_.path, error);
  else {
    FileInfo wanted = wanted_of(file_, FileInfo::Type::File);
    if (!options_.preserve) wanted.mode = platform::apply_umask(wanted.mode);
    if (!platform::set_attributes(file_temp_, wanted, attributes() | platform::kSetMode, error) ||
        !platform::rename_into_place(file_temp_, file_final_, options_.no_clobber, error))
      entry_failed(file_.path, error);
    else
      file_temp_.clear();  // in place: nothing to clean up
  }
  drop_file();
}

void Extractor::on_file_abort(const std::string& reason) {
  if (!file_skipped_) entry_failed(file_.path, reason);
  drop_file();
}

// The file being received goes away: its temporary name, never a final one.
void Extractor::drop_file() {
  std::string error;
  if (file_fd_ >= 0) platform::close_file(std::exchange(file_fd_, -1), error);
  if (!file_temp_.empty()) platform::remove_file(std::exchange(file_temp_, {}));
}

void Extractor::on_symlink(const Entry& entry) {
  if (placement_.to_stdout) return entry_failed(entry.path, "a symlink cannot go to stdout");
  std::string path = local_path(entry.path);
  if (path.empty()) return;
  std::string error;
  FileInfo existing;
  if (!platform::file_info(path, false, existing, error)) return entry_failed(entry.path, error);
  if (existing.type == FileInfo::Type::Directory) return entry_failed(entry.path, "is a directory");
  if (options_.no_clobber && existing.type != FileInfo::Type::Missing)
    return entry_failed(entry.path, "exists (--no-clobber)");
  // Made under a temporary name and renamed over the old entry, as a file is.
  size_t slash = path.find_last_of('/');
  std::string directory = slash == std::string::npos ? "." : path.substr(0, slash == 0 ? 1 : slash);
  std::string temp;
  int fd = platform::create_temporary(directory, kTempPrefix, temp, error);
  if (fd < 0) return entry_failed(entry.path, error);
  platform::close_file(fd, error);
  platform::remove_file(temp);
  FileInfo wanted = wanted_of(entry, FileInfo::Type::Symlink);
  if (!platform::make_symlink(entry.target, temp, error)) return entry_failed(entry.path, error);
  if ((attributes() != 0 && !platform::set_attributes(temp, wanted, attributes(), error)) ||
      !platform::rename_into_place(temp, path, options_.no_clobber, error)) {
    platform::remove_file(temp);
    return entry_failed(entry.path, error);
  }
}

}  // namespace hvterm::copy
