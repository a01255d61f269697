#include "copy/extractor.h"

#include <algorithm>
#include <map>
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
constexpr const char* kPartialSuffix = ".hvterm-partial";
// A file this small is sent again whole rather than kept in a partial file for --resume.
constexpr uint64_t kNotWorthResuming = 64 * 1024;
constexpr size_t kMaxName = 255;  // NAME_MAX on the systems agents run on

bool is_directory(const std::string& path) {
  FileInfo info;
  std::string error;
  return platform::file_info(path, false, info, error) && info.type == FileInfo::Type::Directory;
}

// Where a file's bytes wait until they are complete: ".NAME.hvterm-partial" beside it, so that a
// later copy of the same name finds what an interrupted one left.
std::string partial_name(const std::string& name) {
  std::string partial = "." + name + kPartialSuffix;
  if (partial.size() <= kMaxName) return partial;
  Hasher hasher;  // too long for a name: the name's checksum instead
  hasher.update(name.data(), name.size());
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (uint8_t b : hasher.digest()) (hex += kHex[b >> 4]) += kHex[b & 15];
  return "." + hex + kPartialSuffix;
}

// The partial files the extractors of this process are writing, so that a resuming copy can take
// one over from a copy whose client is gone (its session waits to be discarded, holding the lock).
std::map<std::string, Extractor*>& partials_in_use() {
  static std::map<std::string, Extractor*> in_use;
  return in_use;
}

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
  size_t slash = platform::last_separator(dest);
  if (into || (slash != std::string::npos && slash + 1 == dest.size()))
    return (error = printable(dest) + ": not a directory", false);
  std::string parent = platform::parent_directory(dest);
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
      owner_(options.preserve && platform::may_change_owner()) {
  if (options_.resume) decoder_.expect_resume();
}

Extractor::~Extractor() { leave_file(); }

void Extractor::abandon() {
  abandoned_ = true;
  file_skipped_ = true;
  drop_file();
}

bool Extractor::feed(std::string_view bytes) {
  if (!fatal_.empty()) return false;
  if (decoder_.feed(bytes) && fatal_.empty()) return true;
  if (fatal_.empty()) fatal_ = decoder_.error();
  drop_file();
  return false;
}

bool Extractor::finish() {
  if (fatal_.empty() && !decoder_.ended()) fatal_ = "the copy stream ended early (the sender stopped)";
  leave_file();
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
  // The stream checked the names as '/'-separated ones; this OS may read more into a component.
  for (size_t start = 0;;) {
    size_t end = name.find('/', start);
    if (const char* refused = platform::name_refusal(std::string_view(name).substr(start, end - start))) {
      entry_failed(name, refused);
      return "";
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  // Each parent must be a directory, not a symlink: nothing is written outside the destination.
  for (size_t at = relative.find('/'); at != std::string::npos; at = relative.find('/', at + 1)) {
    std::string parent = platform::join_path(placement_.root, relative.substr(0, at));
    if (real_directories_.count(parent) != 0) continue;
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
    real_directories_.insert(std::move(parent));
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
  if (abandoned_ || placement_.to_stdout) {
    if (abandoned_ || std::exchange(stdout_used_, true)) {
      if (!abandoned_) entry_failed(entry.path, "only one file can go to stdout");
      file_skipped_ = true;
    }
    return answer_partial();
  }
  file_final_ = local_path(entry.path);
  // What is under the final name matters only to --no-clobber: otherwise the rename replaces a file
  // or symlink, and a directory there makes it fail (explained then). A tree of small files spends
  // its time in system calls, and this is one per file.
  FileInfo existing;
  if (file_final_.empty()) {
    file_skipped_ = true;
  } else if (options_.no_clobber && !platform::file_info(file_final_, false, existing, error)) {
    entry_failed(entry.path, error);
    file_skipped_ = true;
  } else if (existing.type == FileInfo::Type::Directory) {
    entry_failed(entry.path, "is a directory");
    file_skipped_ = true;
  } else if (options_.no_clobber && existing.type != FileInfo::Type::Missing) {
    entry_failed(entry.path, "exists (--no-clobber)");
    file_skipped_ = true;
  } else {
    std::string parent = platform::parent_directory(file_final_);
    file_final_name_ = file_final_.substr(platform::last_separator(file_final_) + 1);
    // The destination itself may be a symlink to a directory; a directory below it may not.
    bool top = entry.path.find('/') == std::string::npos;
    if ((directory_.is_open() && directory_.path() == parent) || directory_.open(parent, top, error))
      open_target(error);
    if (file_fd_ < 0) {
      entry_failed(entry.path, error);
      file_skipped_ = true;
    }
  }
  answer_partial();
}

// A resuming sender waits for this answer to each file record: what we hold of the file, with the
// checksum of those bytes (which stay in hasher_, the file's checksum, if the sender continues).
void Extractor::answer_partial() {
  if (!options_.resume) return;
  if (!file_skipped_ && file_partial_ && partial_size_ > 0) {
    hashing_left_ = partial_size_;  // read by work(), a piece per loop turn
    return;
  }
  send_answer(Partial{});
}

void Extractor::work(size_t budget) {
  std::string error;
  std::string buffer(static_cast<size_t>(std::min<uint64_t>({hashing_left_, budget, 256 * 1024})), '\0');
  while (hashing_left_ > 0 && budget > 0) {
    size_t want = static_cast<size_t>(std::min<uint64_t>({hashing_left_, budget, buffer.size()}));
    long n = platform::read_file(file_fd_, buffer.data(), want, error);
    if (n <= 0) {  // shorter than it was, or unreadable: nothing held, the file starts over
      hashing_left_ = 0;
      return send_answer(Partial{});
    }
    hasher_.update(buffer.data(), static_cast<size_t>(n));
    hashing_left_ -= static_cast<uint64_t>(n);
    budget -= std::min(budget, static_cast<size_t>(n));
  }
  if (hashing_left_ == 0) send_answer(Partial{partial_size_, hasher_.digest()});
}

void Extractor::send_answer(const Partial& held) {
  resume_due_ = true;
  if (answer_) answer_(encode_partial(held));
}

uint32_t Extractor::final_mode() const {
  return options_.preserve ? file_.mode & 07777 : platform::apply_umask(file_.mode);
}

bool Extractor::open_target(std::string& error) {
  uint32_t create_mode = final_mode() | 0600;  // room for us to write it again when resuming
  if (!options_.resume && file_.size <= kNotWorthResuming) {
    // Nothing to gain from a partial name, whose lock costs three system calls: under a name of
    // its own, a small file takes one.
    return open_temporary(create_mode, error);
  }
  std::string partial_base = partial_name(file_final_name_);
  std::string partial = platform::join_path(directory_.path(), partial_base);
  partial_size_ = 0;
  // Made with the file's own mode, so that most files need no change of mode once complete.
  file_fd_ = directory_.open_partial(partial_base, create_mode, partial_size_, file_mode_, error);
  if (file_fd_ == platform::kPartialBusy && options_.resume) {
    if (auto it = partials_in_use().find(partial); it != partials_in_use().end() && it->second != this) {
      it->second->take_over(partial);
      file_fd_ = directory_.open_partial(partial_base, create_mode, partial_size_, file_mode_, error);
    }
  }
  if (file_fd_ >= 0) {
    file_temp_ = partial;
    file_temp_name_ = partial_base;
    file_partial_ = true;
    partials_in_use()[partial] = this;
    if (options_.resume || partial_size_ == 0) return true;
    if (platform::truncate_file(file_fd_, 0, error)) return (partial_size_ = 0, true);
    drop_file();
    return false;
  }
  // Another copy writes this name right now (or the name is taken by something that is not ours):
  // this copy goes to a name of its own, which an interruption does not leave behind.
  return open_temporary(create_mode, error);
}

bool Extractor::open_temporary(uint32_t create_mode, std::string& error) {
  partial_size_ = 0;
  file_mode_ = platform::mode_when_created(create_mode);
  file_fd_ = directory_.create_temporary(kTempPrefix, file_temp_name_, error, create_mode);
  if (file_fd_ < 0) return false;
  file_temp_ = platform::join_path(directory_.path(), file_temp_name_);
  return true;
}

// A resuming copy wants the partial file we are writing: our client is most likely gone (its
// session waits to be discarded). What we wrote stays for the new copy to continue.
void Extractor::take_over(const std::string& partial) {
  if (file_temp_ != partial) return;
  entry_failed(file_.path, "taken over by a later copy resuming it");
  leave_file();
  file_skipped_ = true;
}

void Extractor::on_resume(uint64_t offset) {
  if (busy()) {
    fatal_ = "the sender went on before its resume question was answered";
    return;
  }
  if (!std::exchange(resume_due_, false) || abandoned_) return;
  if (file_skipped_ || placement_.to_stdout) {
    if (offset != 0) fatal_ = "the sender resumed a file at " + std::to_string(offset) + " bytes, none held here";
    return;
  }
  std::string error;
  if (offset == 0) {
    hasher_.reset();
    if (partial_size_ > 0 && !platform::truncate_file(file_fd_, 0, error)) {
      entry_failed(file_.path, error);
      drop_file();
      file_skipped_ = true;
    }
    partial_size_ = 0;
    return;
  }
  if (offset != partial_size_) {
    fatal_ = "the sender resumed a file at " + std::to_string(offset) + " bytes, " + std::to_string(partial_size_) +
             " held here";
    return;
  }
  file_bytes_ = offset;  // the checksum has them already, read when answering
  bytes_ += offset;
  resumed_ += offset;
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
    wanted.mode = final_mode();
    // A change of owner clears set-id bits: the mode is set again after it.
    bool mode_right = file_mode_ == wanted.mode && (attributes() & platform::kSetOwner) == 0;
    unsigned what = attributes() | (mode_right ? 0 : platform::kSetMode);
    if ((what != 0 && !directory_.set_attributes(file_temp_name_, wanted, what, error)) ||
        !directory_.rename_into_place(file_temp_name_, file_final_name_, options_.no_clobber, error))
      entry_failed(file_.path, is_directory(file_final_) ? "is a directory" : error);
    else if (file_partial_ = false; true)
      partials_in_use().erase(std::exchange(file_temp_, {}));  // in place: nothing to clean up
  }
  drop_file();
}

// Keeps a partial file with something in it for a later --resume; anything else goes.
void Extractor::leave_file() {
  if (abandoned_) return drop_file();
  hashing_left_ = 0;
  if (file_partial_ && file_fd_ >= 0 && (file_bytes_ > 0 || partial_size_ > 0)) {
    std::string error;
    platform::close_file(std::exchange(file_fd_, -1), error);
    partials_in_use().erase(std::exchange(file_temp_, {}));
    file_partial_ = false;
    return;
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
  hashing_left_ = 0;
  if (!file_temp_.empty() && file_partial_) partials_in_use().erase(file_temp_);
  file_partial_ = false;
  // Removed before it is closed: its lock keeps another copy from taking the name meanwhile.
  if (!file_temp_.empty()) directory_.remove_file(file_temp_name_);
  file_temp_.clear();
  if (file_fd_ >= 0) platform::close_file(std::exchange(file_fd_, -1), error);
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
  std::string directory = platform::parent_directory(path);
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
