#include "copy/walker.h"

#include <algorithm>
#include <utility>

#include "common/printable.h"
#include "platform/file_tree.h"

namespace hvterm::copy {
namespace {

using platform::FileInfo;

constexpr size_t kReadSize = 256 * 1024;

Entry entry_of(const std::string& name, const FileInfo& info) {
  Entry e;
  e.path = name;
  e.mode = info.mode;
  e.mtime_s = info.mtime_s;
  e.mtime_ns = info.mtime_ns;
  e.uid = info.uid;
  e.gid = info.gid;
  e.size = info.size;
  return e;
}

}  // namespace

std::string top_level_name(const std::string& source) {
  if (source == "-") return "stdin";
  std::string path = source;
  while (path.size() > 1 && platform::last_separator(path) == path.size() - 1) path.pop_back();
  size_t slash = platform::last_separator(path);
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == ".." || name == "/") return "";
  return name;
}

Walker::Walker(std::vector<std::string> sources, bool recursive, std::function<void(const std::string&)> warn)
    : sources_(std::move(sources)), recursive_(recursive), warn_(std::move(warn)) {
  for (auto it = sources_.rbegin(); it != sources_.rend(); ++it) stack_.push_back({*it, top_level_name(*it), true});
}

Walker::~Walker() { close_file(); }

void Walker::failure(const std::string& name, const std::string& why) {
  failed_ = true;
  if (warn_) warn_(printable(name) + ": " + why);
}

void Walker::close_file() {
  std::string error;
  if (fd_ >= 0) platform::close_file(std::exchange(fd_, -1), error);
}

bool Walker::produce(std::string& out, size_t budget) {
  if (ended_) return false;
  Encoder encoder;
  std::swap(encoder.bytes(), out);
  if (!std::exchange(started_, true)) {
    encoder.header();
    survey_ = std::make_unique<SizeSurvey>(sources_, recursive_);
  }
  size_t start = encoder.bytes().size();
  checked_ = 0;
  while (!ended_ && !waiting_ && encoder.bytes().size() - start + checked_ < budget) {
    if (answered_) {
      check_partial(encoder, budget);
    } else if (fd_ >= 0) {
      read_some(encoder, budget);
    } else if (stack_.empty()) {
      maybe_total(encoder, true);
      encoder.end();
      ended_ = true;
    } else {
      maybe_total(encoder, false);
      next_item(encoder);
    }
  }
  std::swap(encoder.bytes(), out);
  return !ended_;
}

// Between entries (a total inside a file's records is refused), once the count is done; at the
// latest before the end record, so that every stream says its total.
void Walker::maybe_total(Encoder& out, bool wait) {
  if (total_sent_ || !survey_ || (!wait && !survey_->done())) return;
  out.total(survey_->wait());
  total_sent_ = true;
}

// Below a top-level source, the last component of an item's stream name is its name on disk.
std::string Walker::base_name(const Item& item) { return item.name.substr(item.name.rfind('/') + 1); }

bool Walker::look_up(const Item& item, FileInfo& info, std::string& error) {
  if (item.top) return platform::file_info(item.path, true, info, error);
  std::string directory = item.path.substr(0, item.directory_length);
  if ((!directory_.is_open() || directory_.path() != directory) &&
      !directory_.open(directory, item.directory_top, error))
    return false;
  return directory_.info(base_name(item), info, error);
}

int Walker::open_item(const Item& item, std::string& error) {
  if (item.top) return platform::open_for_reading(item.path, error);
  return directory_.open_for_reading(base_name(item), error);
}

void Walker::next_item(Encoder& out) {
  Item item = std::move(stack_.back());
  stack_.pop_back();
  if (item.name.empty()) return failure(item.path, "cannot be copied by this name (name the directory itself)");
  FileInfo info;
  std::string error;
  if (item.path == "-") {
    info.type = FileInfo::Type::File;
    info.mode = 0644;
    info.size = kUnknownSize;
  } else if (!look_up(item, info, error)) {
    return failure(item.path, error);
  }
  switch (info.type) {
    case FileInfo::Type::Missing: return failure(item.path, "No such file or directory");
    case FileInfo::Type::Directory: {
      if (!recursive_) return failure(item.path, "is a directory (use -r)");
      std::vector<std::string> names;
      if (!platform::list_directory(item.path, names, error)) return failure(item.path, error);
      out.directory(entry_of(item.name, info));
      for (auto it = names.rbegin(); it != names.rend(); ++it)
        stack_.push_back({platform::join_path(item.path, *it), item.name + "/" + *it, false, item.path.size(),
                          item.top});
      return;
    }
    case FileInfo::Type::Symlink: {
      Entry e = entry_of(item.name, info);
      if (!platform::read_symlink(item.path, e.target, error)) return failure(item.path, error);
      if (e.target.empty()) return failure(item.path, "a symlink with an empty target");
      out.symlink(e);
      return;
    }
    case FileInfo::Type::Other:
      if (warn_) warn_(printable(item.path) + ": not a regular file, directory or symlink (skipped)");
      return;
    case FileInfo::Type::File: {
      fd_ = open_item(item, error);
      if (fd_ < 0) return failure(item.path, error);
      current_ = item.path;
      file_bytes_ = 0;
      file_size_ = info.size;
      hasher_.reset();
      out.file(entry_of(item.name, info));
      waiting_ = resume_;
      return;
    }
  }
}

void Walker::answer(const Partial& partial) {
  if (!waiting_) return;
  waiting_ = false;
  answered_ = true;
  partial_ = partial;
}

// Reads the first partial_.size bytes (a piece per call) into the file's checksum: if they are the
// receiver's, they are not sent again.
void Walker::check_partial(Encoder& out, size_t budget) {
  bool stdin_source = current_ == "-";
  std::string error;
  if (!stdin_source && file_bytes_ < partial_.size) {
    buffer_.resize(static_cast<size_t>(std::min<uint64_t>({kReadSize, std::max<size_t>(budget, 4096),
                                                           partial_.size - file_bytes_})));
    long n = platform::read_file(fd_, buffer_.data(), buffer_.size(), error);
    if (n > 0) {
      hasher_.update(buffer_.data(), static_cast<size_t>(n));
      file_bytes_ += static_cast<uint64_t>(n);
      checked_ += static_cast<size_t>(n);
      return;
    }
    if (n < 0) {  // said as the file's failure once its resume record is out
      answered_ = false;
      out.resume(0);
      failure(current_, error);
      out.file_abort(error);
      return close_file();
    }
  }
  answered_ = false;
  if (!stdin_source && partial_.size > 0 && file_bytes_ == partial_.size && hasher_.digest() == partial_.checksum) {
    out.resume(partial_.size);
    read_ += partial_.size;
    resumed_ += partial_.size;
    return;
  }
  out.resume(0);
  if (file_bytes_ == 0) return;
  // Not the receiver's bytes (or a shorter file now): from the start.
  close_file();
  fd_ = platform::open_for_reading(current_, error);
  file_bytes_ = 0;
  hasher_.reset();
  if (fd_ < 0) {
    failure(current_, error);
    out.file_abort(error);
  }
}

void Walker::read_some(Encoder& out, size_t budget) {
  buffer_.resize(std::min(kReadSize, std::max<size_t>(budget, 4096)));
  std::string error;
  long n = platform::read_file(fd_, buffer_.data(), buffer_.size(), error);
  if (n < 0) {
    failure(current_, error);
    out.file_abort(error);
    close_file();
    return;
  }
  if (n == 0) {
    out.file_end(file_bytes_, hasher_.digest());
    close_file();
    return;
  }
  std::string_view bytes(buffer_.data(), static_cast<size_t>(n));
  hasher_.update(bytes.data(), bytes.size());
  file_bytes_ += bytes.size();
  read_ += bytes.size();
  out.chunk(bytes);
  // A read of a regular file that gives less than asked for has reached its end; when that is the
  // size its stat said, the read that would return 0 is not needed (one system call per file).
  if (static_cast<size_t>(n) < buffer_.size() && file_bytes_ == file_size_) {
    out.file_end(file_bytes_, hasher_.digest());
    close_file();
  }
}

}  // namespace hvterm::copy
