#pragma once
// Reference-counted byte blocks and slices of them.
//
// Bytes read from a socket, a pipe or a PTY land in a Block once and are then only referenced:
// the replay buffer keeps slices until the peer acknowledges them, and a pending write keeps
// its slice alive until libuv is done with it. Nothing on the data path copies payload bytes.
// Single-threaded by design (one libuv loop per process), so the count is not atomic.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string_view>
#include <utility>
#include <vector>

namespace hvterm {

class Block {
 public:
  static Block* create(size_t capacity) {
    // Large blocks come and go at the rate of reads: reuse them instead of faulting in new pages.
    auto& pool = free_list();
    for (size_t i = pool.size(); i-- > 0;) {
      if (pool[i]->capacity_ == capacity) {
        Block* block = pool[i];
        pool[i] = pool.back();
        pool.pop_back();
        pooled_bytes() -= capacity;
        block->refs_ = 1;
        return block;
      }
    }
    void* memory = std::malloc(sizeof(Block) + capacity);
    if (memory == nullptr) throw std::bad_alloc();
    return new (memory) Block(capacity);
  }
  char* data() { return reinterpret_cast<char*>(this + 1); }
  size_t capacity() const { return capacity_; }
  void ref() { ++refs_; }
  bool shared() const { return refs_ > 1; }
  void unref() {
    if (--refs_ != 0) return;
    auto& pool = free_list();
    if (capacity_ >= kPooledFrom && pooled_bytes() + capacity_ <= kPoolBytes) {
      pool.push_back(this);
      pooled_bytes() += capacity_;
      return;
    }
    released_bytes_ref() += capacity_;
    this->~Block();
    std::free(this);
  }
  // Bytes of blocks handed back to the allocator (the pool had no room) since the process started.
  static size_t released_bytes() { return released_bytes_ref(); }

 private:
  static constexpr size_t kPooledFrom = 16 * 1024;
  // Enough for a full 1 MiB replay window of 256 KiB reads plus the blocks being read into; what
  // a burst leaves beyond that goes back to the system.
  static constexpr size_t kPoolBytes = 2 * 1024 * 1024;
  static size_t& released_bytes_ref() {
    static size_t bytes = 0;
    return bytes;
  }
  static size_t& pooled_bytes() {
    static size_t bytes = 0;
    return bytes;
  }
  static std::vector<Block*>& free_list() {
    // Never destroyed: pooled blocks stay reachable (not leaks) until the process ends.
    static auto* pool = new std::vector<Block*>();
    return *pool;
  }
  explicit Block(size_t capacity) : capacity_(capacity) {}
  size_t capacity_;
  uint32_t refs_ = 1;
};

// A counted reference to bytes [data, data+size) inside a Block.
class Slice {
 public:
  Slice() = default;
  // Adopts the caller's reference to `block`.
  static Slice adopt(Block* block, size_t offset, size_t size) { return Slice(block, offset, size); }
  // Takes a reference of its own: `block` stays the caller's too (a read block filled on by the next read).
  static Slice share(Block* block, size_t offset, size_t size) {
    block->ref();
    return Slice(block, offset, size);
  }
  static Slice copy_of(std::string_view bytes) {
    Block* block = Block::create(bytes.size());
    if (!bytes.empty()) std::memcpy(block->data(), bytes.data(), bytes.size());
    return Slice(block, 0, bytes.size());
  }
  Slice(const Slice& other) : block_(other.block_), offset_(other.offset_), size_(other.size_) {
    if (block_ != nullptr) block_->ref();
  }
  Slice(Slice&& other) noexcept
      : block_(std::exchange(other.block_, nullptr)), offset_(other.offset_), size_(std::exchange(other.size_, 0)) {}
  Slice& operator=(Slice other) noexcept {
    std::swap(block_, other.block_);
    std::swap(offset_, other.offset_);
    std::swap(size_, other.size_);
    return *this;
  }
  ~Slice() {
    if (block_ != nullptr) block_->unref();
  }

  const char* data() const { return block_ == nullptr ? nullptr : block_->data() + offset_; }
  char* mutable_data() { return block_ == nullptr ? nullptr : block_->data() + offset_; }
  size_t size() const { return size_; }
  bool empty() const { return size_ == 0; }
  std::string_view view() const { return {data(), size_}; }
  Block* block() const { return block_; }

  // A slice of this slice sharing the same block.
  Slice sub(size_t offset, size_t size) const {
    Slice result(*this);
    result.offset_ += offset;
    result.size_ = size;
    return result;
  }
  void remove_prefix(size_t n) {
    offset_ += n;
    size_ -= n;
  }
  // Grow over `next` when it starts right where this slice ends, in the same block.
  bool extend(const Slice& next) {
    if (block_ == nullptr || block_ != next.block_ || offset_ + size_ != next.offset_) return false;
    size_ += next.size_;
    return true;
  }

 private:
  Slice(Block* block, size_t offset, size_t size) : block_(block), offset_(offset), size_(size) {}
  Block* block_ = nullptr;
  size_t offset_ = 0;
  size_t size_ = 0;
};

// The block a reader reads into, read after read: holds one reference for the reader (released
// when it lets go or is destroyed), and hands out what each read filled as a Slice of its own.
// Bytes before `used()` belong to slices taken already; a read goes into the rest.
class ReadBlock {
 public:
  ReadBlock() = default;
  ~ReadBlock() { release(); }
  ReadBlock(const ReadBlock&) = delete;
  ReadBlock& operator=(const ReadBlock&) = delete;

  bool empty() const { return block_ == nullptr; }
  // Only the reader refers to the block: every slice taken from it is gone.
  bool sole() const { return block_ != nullptr && !block_->shared(); }
  size_t used() const { return used_; }
  size_t room() const { return block_ == nullptr ? 0 : block_->capacity() - used_; }
  char* next() { return block_->data() + used_; }  // where the next read goes

  // A block of `capacity` when there is none.
  void ensure(size_t capacity) {
    if (block_ == nullptr) {
      block_ = Block::create(capacity);
      used_ = 0;
    }
  }
  // Nothing else refers to the block: reading starts over at its front.
  void rewind_if_sole() {
    if (sole()) used_ = 0;
  }
  // The `n` bytes a read put at next(), shared: the block goes on with the following read.
  Slice take(size_t n) {
    Slice bytes = Slice::share(block_, used_, n);
    used_ += n;
    return bytes;
  }
  // The `n` bytes at next() copied out (a short read must not pin a large block).
  Slice copy(size_t n) { return Slice::copy_of(std::string_view(next(), n)); }
  // The `n` bytes at next(), and the block with them: the reader starts a new one next time.
  Slice hand_over(size_t n) {
    Slice bytes = Slice::adopt(std::exchange(block_, nullptr), used_, n);
    used_ = 0;
    return bytes;
  }
  // A reference to the whole block, for a read in flight that must outlive the reader.
  Slice pin() const { return Slice::share(block_, 0, block_->capacity()); }
  // Read on in `fresh`, whose first `used` bytes are taken already.
  void replace(Block* fresh, size_t used) {
    release();
    block_ = fresh;
    used_ = used;
  }
  void release() {
    if (block_ != nullptr) block_->unref();
    block_ = nullptr;
    used_ = 0;
  }
  void release_if_sole() {
    if (sole()) release();
  }

 private:
  Block* block_ = nullptr;
  size_t used_ = 0;
};

}  // namespace hvterm
