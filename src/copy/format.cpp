#include "copy/format.h"

#include <cstring>
#include <new>
#include <utility>

#define XXH_INLINE_ALL
#include <xxhash.h>

namespace hvterm::copy {
namespace {

void put_u16(std::string& out, uint16_t v) {
  for (int i = 0; i < 2; ++i) out += static_cast<char>(v >> (8 * i));
}
void put_u32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out += static_cast<char>(v >> (8 * i));
}
void put_u64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out += static_cast<char>(v >> (8 * i));
}
void put_str(std::string& out, std::string_view s) {
  put_u16(out, static_cast<uint16_t>(s.size()));
  out.append(s.data(), s.size());
}

// Reads fixed fields from what has arrived; `short_` once a field reaches past it.
struct Reader {
  std::string_view in;
  size_t at = 0;
  bool short_ = false;
  bool take(void* out, size_t n) {
    if (in.size() - at < n) return !(short_ = true);
    std::memcpy(out, in.data() + at, n);
    at += n;
    return true;
  }
  template <typename T>
  bool number(T& v) {
    uint8_t b[sizeof(T)];
    if (!take(b, sizeof b)) return false;
    uint64_t x = 0;
    for (size_t i = 0; i < sizeof b; ++i) x |= uint64_t{b[i]} << (8 * i);
    v = static_cast<T>(x);
    return true;
  }
  bool str(std::string& s) {
    uint16_t n;
    if (!number(n)) return false;
    if (in.size() - at < n) return !(short_ = true);
    s.assign(in.data() + at, n);
    at += n;
    return true;
  }
};

}  // namespace

Hasher::Hasher() : state_(XXH3_createState()) {
  if (state_ == nullptr) throw std::bad_alloc();
  reset();
}
Hasher::~Hasher() { XXH3_freeState(static_cast<XXH3_state_t*>(state_)); }
void Hasher::reset() { XXH3_128bits_reset(static_cast<XXH3_state_t*>(state_)); }
void Hasher::update(const void* data, size_t size) {
  XXH3_128bits_update(static_cast<XXH3_state_t*>(state_), data, size);
}
Checksum Hasher::digest() const {
  XXH128_canonical_t canonical;
  XXH128_canonicalFromHash(&canonical, XXH3_128bits_digest(static_cast<XXH3_state_t*>(state_)));
  Checksum out;
  std::memcpy(out.data(), canonical.digest, out.size());
  return out;
}

std::string check_relative_path(std::string_view path) {
  if (path.empty()) return "an empty name";
  if (path.size() > kMaxPath) return "a name longer than " + std::to_string(kMaxPath) + " bytes";
  if (path.find('\0') != std::string_view::npos) return "a name with a NUL byte";
  if (path.front() == '/') return "an absolute name";
  size_t start = 0;
  for (;;) {
    size_t slash = path.find('/', start);
    std::string_view part = path.substr(start,
                                        slash == std::string_view::npos ? std::string_view::npos : slash - start);
    if (part.empty()) return "a name with an empty component";
    if (part == ".") return "a name with a '.' component";
    if (part == "..") return "a name with a '..' component";
    if (slash == std::string_view::npos) return "";
    start = slash + 1;
  }
}

void Encoder::header() {
  out_.append(kMagic, sizeof kMagic);
  out_ += static_cast<char>(kVersion);
}

void Encoder::entry(Record type, const Entry& e, bool with_size) {
  out_ += static_cast<char>(type);
  put_str(out_, e.path);
  put_u32(out_, e.mode);
  put_u64(out_, static_cast<uint64_t>(e.mtime_s));
  put_u32(out_, e.mtime_ns);
  put_u32(out_, e.uid);
  put_u32(out_, e.gid);
  if (with_size) put_u64(out_, e.size);
}

void Encoder::directory(const Entry& e) { entry(Record::Directory, e, false); }
void Encoder::file(const Entry& e) { entry(Record::File, e, true); }

void Encoder::chunk(std::string_view bytes) {
  out_ += static_cast<char>(Record::Chunk);
  put_u32(out_, static_cast<uint32_t>(bytes.size()));
  out_.append(bytes.data(), bytes.size());
}

void Encoder::file_end(uint64_t size, const Checksum& checksum) {
  out_ += static_cast<char>(Record::FileEnd);
  put_u64(out_, size);
  out_.append(reinterpret_cast<const char*>(checksum.data()), checksum.size());
}

void Encoder::file_abort(std::string_view reason) {
  out_ += static_cast<char>(Record::FileAbort);
  put_str(out_, reason.substr(0, 1024));
}

void Encoder::symlink(const Entry& e) {
  entry(Record::Symlink, e, false);
  put_str(out_, e.target);
}

void Encoder::end() { out_ += static_cast<char>(Record::End); }

void Encoder::total(uint64_t bytes) {
  out_ += static_cast<char>(Record::Total);
  put_u64(out_, bytes);
}

void Encoder::resume(uint64_t offset) {
  out_ += static_cast<char>(Record::Resume);
  put_u64(out_, offset);
}

std::string encode_partial(const Partial& partial) {
  std::string out;
  put_u64(out, partial.size);
  out.append(reinterpret_cast<const char*>(partial.checksum.data()), partial.checksum.size());
  return out;
}

bool PartialDecoder::next(Partial& partial) {
  if (pending_.size() < kPartialSize) return false;
  Reader r{pending_};
  r.number(partial.size);
  r.take(partial.checksum.data(), partial.checksum.size());
  pending_.erase(0, kPartialSize);
  return true;
}

std::string Encoder::take() { return std::exchange(out_, {}); }

bool Decoder::fail(std::string why) {
  if (error_.empty()) error_ = "the copy stream is malformed: " + std::move(why);
  return false;
}

bool Decoder::feed(std::string_view bytes) {
  if (!error_.empty()) return false;
  while (!bytes.empty()) {
    if (ended_) return fail("bytes after its end record");
    if (chunk_left_ > 0) {  // file bytes pass straight through
      size_t n = static_cast<size_t>(std::min<uint64_t>(chunk_left_, bytes.size()));
      chunk_left_ -= n;
      handler_.on_data(bytes.substr(0, n));
      bytes.remove_prefix(n);
      continue;
    }
    // Records other than chunk bytes are small (at most two names): gather one whole, then parse it.
    size_t take = std::min<size_t>(bytes.size(), 2 * kMaxPath + 64);
    pending_.append(bytes.data(), take);
    bytes.remove_prefix(take);
    size_t used;
    while (chunk_left_ == 0 && !ended_ && !pending_.empty()) {
      if (!parse_one(used)) return false;
      if (used == 0) break;
      pending_.erase(0, used);
    }
    if (chunk_left_ > 0 && !pending_.empty()) {  // the start of a chunk's bytes came with its header
      std::string rest = std::exchange(pending_, {});
      if (!feed(rest)) return false;
    } else if (ended_ && !pending_.empty()) {
      return fail("bytes after its end record");
    } else if (pending_.size() > 2 * kMaxPath + 64) {
      return fail("a record longer than any valid one");
    }
  }
  return true;
}

bool Decoder::parse_one(size_t& used) {
  used = 0;
  Reader r{pending_};
  if (!header_seen_) {
    char magic[4];
    uint8_t version;
    if (!r.take(magic, 4) || !r.number(version)) return true;
    if (std::memcmp(magic, kMagic, 4) != 0) return fail("it does not start with HVCP");
    if (version != kVersion) return fail("version " + std::to_string(version) + " (this hvterm reads version 1)");
    header_seen_ = true;
    used = r.at;
    return true;
  }
  uint8_t type;
  if (!r.number(type)) return true;
  if (resume_due_ && static_cast<Record>(type) != Record::Resume)
    return fail("a file of a resuming copy without its resume record");
  auto entry = [&](Entry& e, bool with_size) {
    uint64_t mtime;
    return r.str(e.path) && r.number(e.mode) && r.number(mtime) && r.number(e.mtime_ns) && r.number(e.uid) &&
           r.number(e.gid) && (!with_size || r.number(e.size)) && ((e.mtime_s = static_cast<int64_t>(mtime)), true);
  };
  auto named = [&](const Entry& e) {
    if (in_file_) return fail("a new entry inside file data");
    if (auto why = check_relative_path(e.path); !why.empty()) return fail(why);
    if (e.mtime_ns >= 1000000000) return fail("a time with more than a second of nanoseconds");
    return true;
  };
  Entry e;
  switch (static_cast<Record>(type)) {
    case Record::Directory:
      if (!entry(e, false)) return true;
      if (!named(e)) return false;
      handler_.on_directory(e);
      break;
    case Record::File:
      if (!entry(e, true)) return true;
      if (!named(e)) return false;
      in_file_ = true;
      resume_due_ = resume_expected_;
      handler_.on_file(e);
      break;
    case Record::Symlink:
      if (!entry(e, false) || !r.str(e.target)) return true;
      if (!named(e)) return false;
      if (e.target.empty() || e.target.find('\0') != std::string::npos) return fail("a symlink with no valid target");
      handler_.on_symlink(e);
      break;
    case Record::Chunk: {
      uint32_t length;
      if (!r.number(length)) return true;
      if (!in_file_) return fail("file data outside a file");
      if (length == 0 || length > kMaxChunk) return fail("a chunk of " + std::to_string(length) + " bytes");
      chunk_left_ = length;
      break;
    }
    case Record::FileEnd: {
      uint64_t size;
      Checksum sum;
      if (!r.number(size) || !r.take(sum.data(), sum.size())) return true;
      if (!in_file_) return fail("a file end outside a file");
      in_file_ = false;
      handler_.on_file_end(size, sum);
      break;
    }
    case Record::FileAbort: {
      std::string reason;
      if (!r.str(reason)) return true;
      if (!in_file_) return fail("a file abort outside a file");
      in_file_ = false;
      handler_.on_file_abort(reason);
      break;
    }
    case Record::Total: {
      uint64_t total;
      if (!r.number(total)) return true;
      if (in_file_) return fail("a total inside a file");
      handler_.on_total(total);
      break;
    }
    case Record::Resume: {
      uint64_t offset;
      if (!r.number(offset)) return true;
      if (!std::exchange(resume_due_, false)) return fail("a resume record that is not right after a file record");
      handler_.on_resume(offset);
      break;
    }
    case Record::End:
      if (in_file_) return fail("its end inside a file");
      ended_ = true;
      used = r.at;
      handler_.on_end();
      return true;
    default: return fail("an unknown record type " + std::to_string(type));
  }
  used = r.at;
  return true;
}

}  // namespace hvterm::copy
