// ReadBlock (common/buffer.h): the reader's one reference to the block it reads into.
#include <doctest/doctest.h>

#include <cstring>

#include "common/buffer.h"

using namespace hvterm;

TEST_CASE("ReadBlock: reads go on behind the slices taken, and start over once those are gone") {
  ReadBlock block;
  CHECK(block.empty());
  CHECK(block.room() == 0);
  block.ensure(64);
  CHECK(block.room() == 64);
  CHECK(block.sole());
  std::memcpy(block.next(), "hello", 5);
  Slice first = block.take(5);
  CHECK(first.view() == "hello");
  CHECK(block.used() == 5);
  CHECK(block.room() == 59);
  CHECK_FALSE(block.sole());
  block.rewind_if_sole();  // `first` still refers to the front
  CHECK(block.used() == 5);
  std::memcpy(block.next(), "world", 5);
  Slice second = block.take(5);
  CHECK(second.view() == "world");
  CHECK(first.view() == "hello");
  first = Slice();
  second = Slice();
  CHECK(block.sole());
  block.rewind_if_sole();
  CHECK(block.used() == 0);
  CHECK(block.room() == 64);
}

TEST_CASE("ReadBlock: a short read copied out leaves the block with the reader; handing over gives it away") {
  ReadBlock block;
  block.ensure(32);
  std::memcpy(block.next(), "abc", 3);
  Slice copy = block.copy(3);
  CHECK(copy.view() == "abc");
  CHECK(copy.block() != nullptr);
  CHECK(block.sole());  // the copy lives in a block of its own
  std::memcpy(block.next(), "xyz", 3);
  Slice whole = block.hand_over(3);
  CHECK(whole.view() == "xyz");
  CHECK(block.empty());
  CHECK(whole.block()->capacity() == 32);
  CHECK_FALSE(whole.block()->shared());  // the slice holds the reader's reference now, not a second one
}

TEST_CASE("ReadBlock: a pinned block outlives the reader's release; release_if_sole keeps a shared one") {
  ReadBlock block;
  block.ensure(16);
  std::memcpy(block.next(), "0123456789abcdef", 16);
  Slice pinned = block.pin();
  CHECK(pinned.size() == 16);
  block.release_if_sole();
  CHECK_FALSE(block.empty());  // the pin shares it
  block.release();
  CHECK(block.empty());
  CHECK(pinned.view() == "0123456789abcdef");
  CHECK_FALSE(pinned.block()->shared());
}

TEST_CASE("ReadBlock: replace reads on in a new block whose front is taken already") {
  ReadBlock block;
  block.ensure(8);
  Block* fresh = Block::create(8);
  std::memcpy(fresh->data(), "ab", 2);
  block.replace(fresh, 2);
  CHECK(block.used() == 2);
  CHECK(block.room() == 6);
  CHECK(block.next() == fresh->data() + 2);
}
