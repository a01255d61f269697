#pragma once
// Walker: reads sources (files, and with `recursive` whole trees) into a copy stream, a piece at
// a time, so that a sender never holds more than one piece. A source it cannot read is said in one
// line naming it and the walk goes on; special files are skipped with a warning. A top-level
// source that is a symlink is followed (as cp does); inside a tree symlinks are sent as symlinks
// and never followed. "-" is stdin, sent as one file named "stdin".
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "copy/format.h"
#include "copy/size_survey.h"
#include "platform/file_tree.h"

namespace hvterm::copy {

class Walker {
 public:
  Walker(std::vector<std::string> sources, bool recursive, std::function<void(const std::string&)> warn);
  ~Walker();
  // A resuming copy: after each file record the walk waits (waiting()) for the receiver's answer
  // (answer()), then sends a resume record and the file from where the receiver's partial copy
  // ends, if the sender's first bytes match that copy's checksum; from the start otherwise.
  void resume_partials() { resume_ = true; }
  // Appends about `budget` bytes of records to `out`; false once the end record is in. It appends
  // nothing when it is waiting, or when checking a partial file's bytes took the budget.
  bool produce(std::string& out, size_t budget);
  bool resuming() const { return resume_; }
  bool waiting() const { return waiting_; }
  void answer(const Partial& partial);
  uint64_t bytes_resumed() const { return resumed_; }  // not sent: the receiver had them
  bool failed() const { return failed_; }              // some source could not be read
  // The bytes of every file (stdin counts 0), for progress: counted on a thread from the first
  // produce() on, meanwhile kUnknownSize. The stream has it in a total record once it is known.
  uint64_t total_bytes_known() const { return survey_ && survey_->done() ? survey_->total() : kUnknownSize; }

  uint64_t bytes_read() const { return read_; }
  const std::string& current() const { return current_; }  // the file being sent, for progress

 private:
  struct Item {
    std::string path, name;
    bool top;
    // Below a top-level source: how much of `path` is the directory it was listed in, and whether
    // that directory is a top-level source (which may be a symlink to a directory).
    size_t directory_length = 0;
    bool directory_top = false;
  };
  // An item below a top-level source is looked up and opened from its directory, held open for its
  // siblings, rather than by its whole path (and never through a symlink that replaced a directory
  // after it was listed); open_item goes with the look_up just before it.
  bool look_up(const Item& item, platform::FileInfo& info, std::string& error);
  int open_item(const Item& item, std::string& error);
  static std::string base_name(const Item& item);
  void maybe_total(Encoder& out, bool wait);
  void next_item(Encoder& out);
  void read_some(Encoder& out, size_t budget);
  void check_partial(Encoder& out, size_t budget);
  void close_file();
  void failure(const std::string& name, const std::string& why);

  std::vector<std::string> sources_;
  bool recursive_;
  std::function<void(const std::string&)> warn_;
  std::vector<Item> stack_;
  bool started_ = false, ended_ = false, failed_ = false;
  int fd_ = -1;
  std::string current_;
  uint64_t file_bytes_ = 0, read_ = 0;
  std::unique_ptr<SizeSurvey> survey_;
  bool total_sent_ = false;
  platform::Directory directory_;      // where the last item below a top-level source was
  uint64_t file_size_ = kUnknownSize;  // what the file's stat said (stdin: unknown)
  // Resuming: the receiver's answer for the current file, and how much of it is still to be read.
  bool resume_ = false, waiting_ = false, answered_ = false;
  Partial partial_;
  uint64_t resumed_ = 0;
  size_t checked_ = 0;  // partial bytes checked in this produce(): they count towards its budget
  Hasher hasher_;
  std::string buffer_;
};

// The name a source has in the stream (its last component), or empty if it has none ("/", ".").
std::string top_level_name(const std::string& source);

}  // namespace hvterm::copy
