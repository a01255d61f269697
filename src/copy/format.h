#pragma once
// The copy stream: one format for a file and for a tree, the same in both directions (hvterm cp
// pushes it on a session's stdin, pulls it from its stdout). PROTOCOL.md, "Copy stream", has it
// byte by byte. The receiver trusts nothing in it: every name is checked (check_relative_path),
// every length is bounded before anything is allocated, and a file counts only once its size and
// checksum match what the sender read.
#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace hvterm::copy {

inline constexpr char kMagic[4] = {'H', 'V', 'C', 'P'};
inline constexpr uint8_t kVersion = 1;
inline constexpr size_t kMaxPath = 4096;
inline constexpr size_t kMaxChunk = 1024 * 1024;
inline constexpr uint64_t kUnknownSize = ~uint64_t{0};

enum class Record : uint8_t {
  Directory = 1,
  File = 2,
  Chunk = 3,
  FileEnd = 4,
  FileAbort = 5,
  Symlink = 6,
  End = 7,
  Total = 8,   // the bytes of every file the sender is about to send, for progress
  Resume = 9,  // right after a file record of a resuming copy: where its chunks start
};

// What a record says about the entry it names.
struct Entry {
  std::string path;  // relative, '/'-separated
  uint32_t mode = 0;
  int64_t mtime_s = 0;
  uint32_t mtime_ns = 0;
  uint32_t uid = 0, gid = 0;
  uint64_t size = kUnknownSize;  // File: what the sender expects to send (for progress)
  std::string target;            // Symlink
};

using Checksum = std::array<uint8_t, 16>;
// XXH3 128-bit over a file's bytes, as the sender read them and the receiver wrote them.
class Hasher {
 public:
  Hasher();
  ~Hasher();
  Hasher(const Hasher&) = delete;
  Hasher& operator=(const Hasher&) = delete;
  void reset();
  void update(const void* data, size_t size);
  Checksum digest() const;

 private:
  void* state_;
};

// What a resuming receiver already holds of the file just announced (a partial file left by an
// interrupted copy): its size and the checksum of those bytes. It goes the other way, one answer per
// file record, as 24 bytes: size u64, then the checksum.
struct Partial {
  uint64_t size = 0;
  Checksum checksum{};
};
inline constexpr size_t kPartialSize = 24;
std::string encode_partial(const Partial& partial);
// Gathers answers from pieces of any size.
class PartialDecoder {
 public:
  void feed(std::string_view bytes) { pending_.append(bytes.data(), bytes.size()); }
  bool next(Partial& partial);  // false until a whole answer is there

 private:
  std::string pending_;
};

// Empty when `path` may be created under a destination: relative, no empty, "." or ".."
// component, no NUL, at most kMaxPath bytes. Otherwise why not, in a few words.
std::string check_relative_path(std::string_view path);

// Appends records to a string.
class Encoder {
 public:
  void header();
  void directory(const Entry& entry);
  void file(const Entry& entry);
  void chunk(std::string_view bytes);  // at most kMaxChunk bytes, not empty
  void file_end(uint64_t size, const Checksum& checksum);
  void file_abort(std::string_view reason);
  void symlink(const Entry& entry);
  void end();
  void total(uint64_t bytes);
  void resume(uint64_t offset);
  std::string& bytes() { return out_; }
  std::string take();

 private:
  void entry(Record type, const Entry& e, bool with_size);
  std::string out_;
};

// Parses a stream fed in pieces of any size and hands each record to a Handler. Chunk bytes pass
// through as they arrive (never buffered whole). A malformed stream stops it with error().
class Decoder {
 public:
  struct Handler {
    virtual ~Handler() = default;
    virtual void on_directory(const Entry& entry) = 0;
    virtual void on_file(const Entry& entry) = 0;
    virtual void on_data(std::string_view bytes) = 0;
    virtual void on_file_end(uint64_t size, const Checksum& checksum) = 0;
    virtual void on_file_abort(const std::string& reason) = 0;
    virtual void on_symlink(const Entry& entry) = 0;
    virtual void on_end() = 0;
    virtual void on_total(uint64_t) {}
    virtual void on_resume(uint64_t) {}
  };
  explicit Decoder(Handler& handler) : handler_(handler) {}
  // A resuming copy: every file record must be followed by a resume record (and only then).
  void expect_resume() { resume_expected_ = true; }
  // False once the stream is malformed (then error() says why) or feeds come after the end.
  bool feed(std::string_view bytes);
  bool ended() const { return ended_; }
  const std::string& error() const { return error_; }

 private:
  bool parse_one(size_t& used);  // one record from pending_; used = 0: need more
  bool fail(std::string why);

  Handler& handler_;
  std::string pending_;
  uint64_t chunk_left_ = 0;
  bool header_seen_ = false, in_file_ = false, ended_ = false;
  bool resume_expected_ = false, resume_due_ = false;
  std::string error_;
};

}  // namespace hvterm::copy
