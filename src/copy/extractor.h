#pragma once
// Extractor: writes what a copy stream describes under a destination, for the agent (hvterm cp
// into the guest) and the client (out of it) alike. Each file goes to a temporary name in its
// directory and is renamed into place only once its size and checksum match the sender's, so a
// failed or interrupted file never appears under its final name. A name the stream gives is
// written only below the destination and never through a symlink (one already there, or one the
// stream made earlier): check_relative_path, then each parent must be a real directory.
#include <functional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "copy/format.h"
#include "platform/file_tree.h"

namespace hvterm::copy {

// Where the entries of a stream go.
struct Placement {
  std::string root;      // an existing directory
  std::string top_name;  // not empty: the one top-level entry is written under this name instead
  bool to_stdout = false;
};
// `dest` as cp reads it: an existing directory takes the entries under their names; otherwise (only
// without `into`) the single entry becomes `dest`, in its existing parent. "-" is stdout.
bool place(const std::string& dest, bool into, Placement& placement, std::string& error);

class Extractor final : public Decoder::Handler {
 public:
  struct Options {
    bool preserve = false;    // mode and mtime as sent (and owner when we may)
    bool no_clobber = false;  // an existing entry is not replaced
    // A partial file for this name (left by an interrupted copy) is offered to the sender, which
    // continues it if its first bytes match: each file record is answered through `answer`.
    bool resume = false;
  };
  // `warn` gets one line per entry that could not be written, naming it; `out` takes the file's
  // bytes when the placement is stdout.
  Extractor(Placement placement, Options options, std::function<void(const std::string&)> warn,
            std::function<bool(std::string_view, std::string&)> out = nullptr);
  // With Options::resume: where the answers to the sender go (the other direction of the stream).
  void answer_to(std::function<void(std::string)> answer) { answer_ = std::move(answer); }
  // A file still being received when the extractor goes is kept under its partial name, for a
  // later --resume, unless the copy was stopped on purpose: abandon() removes it, and nothing more
  // is written.
  void abandon();
  ~Extractor() override;

  // False once the stream is malformed (fatal_error() says why): nothing more is written.
  bool feed(std::string_view bytes);
  // The stream is over (its end, or the sender's EOF): directory attributes are applied; false
  // (with fatal_error) when it ended before its end record.
  bool finish();
  bool failed() const { return failed_; }  // some entry could not be written
  // Resuming: a partial file is being read for its checksum before the answer goes (the sender
  // waits for it meanwhile). The owner calls work() on later loop turns until it is not busy, so
  // that a large partial file does not hold the loop.
  bool busy() const { return hashing_left_ > 0; }
  void work(size_t budget);
  const std::string& fatal_error() const { return fatal_; }
  uint64_t bytes_written() const { return bytes_; }
  uint64_t bytes_resumed() const { return resumed_; }        // of bytes_written: a partial file already had them
  uint64_t total() const { return total_; }                  // what the sender announced, for progress
  const std::string& current() const { return file_.path; }  // the file being received

  void on_directory(const Entry& entry) override;
  void on_file(const Entry& entry) override;
  void on_data(std::string_view bytes) override;
  void on_file_end(uint64_t size, const Checksum& checksum) override;
  void on_file_abort(const std::string& reason) override;
  void on_symlink(const Entry& entry) override;
  void on_resume(uint64_t offset) override;
  void on_end() override {}
  void on_total(uint64_t bytes) override { total_ = bytes; }

 private:
  // The local path for a stream name, or empty (after a warning) if it may not be written.
  std::string local_path(const std::string& name);
  void entry_failed(const std::string& name, const std::string& why);
  void drop_file();   // the file failed: it goes
  void leave_file();  // the copy stops mid-file: a partial file stays for --resume
  // Opens the file's partial name (or, if another copy holds it, a temporary one) into file_fd_,
  // in directory_.
  bool open_target(std::string& error);
  // A random name of this copy's own: not resumable, left by no interruption.
  bool open_temporary(uint32_t create_mode, std::string& error);
  uint32_t final_mode() const;  // the permission bits the file being received gets
  void answer_partial();
  void send_answer(const Partial& held);
  void take_over(const std::string& partial);  // another extractor of ours gives it up
  unsigned attributes() const;

  Placement placement_;
  Options options_;
  std::function<void(const std::string&)> warn_;
  std::function<bool(std::string_view, std::string&)> out_;
  Decoder decoder_;
  bool owner_ = false;
  std::string top_seen_;  // with top_name: the one top-level name the stream may use
  // The file being received.
  Entry file_;
  std::string file_final_, file_temp_;
  std::string file_final_name_, file_temp_name_;  // their last components, in directory_
  // The directory the file being received goes into, kept open for its siblings after it.
  platform::Directory directory_;
  int file_fd_ = -1;
  bool file_skipped_ = false;
  bool file_partial_ = false;  // file_temp_ is the resumable partial name, not a random one
  uint64_t partial_size_ = 0;  // what it held when opened
  uint32_t file_mode_ = 0;     // its permission bits now (platform::kModeUnknown: set them anyway)
  bool resume_due_ = false;    // answered; the sender's resume record comes next
  bool abandoned_ = false;     // stopped on purpose: nothing more is written, nothing partial kept
  uint64_t hashing_left_ = 0;  // of the partial file, still to be read before answering
  uint64_t file_bytes_ = 0;
  Hasher hasher_;
  bool stdout_used_ = false;
  struct MadeDirectory {
    std::string path;
    Entry entry;
  };
  // Parents already found to be real directories. Nothing in a stream can turn one into a symlink
  // (a symlink record never replaces a directory), so each is looked at once, not once per file in it.
  std::unordered_set<std::string> real_directories_;
  std::vector<MadeDirectory> directories_;  // their attributes come last, once nothing is written into them
  bool failed_ = false;
  std::string fatal_;
  uint64_t bytes_ = 0, resumed_ = 0;
  uint64_t total_ = kUnknownSize;
  std::function<void(std::string)> answer_;
};

}  // namespace hvterm::copy
