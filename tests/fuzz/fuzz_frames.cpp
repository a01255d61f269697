// libFuzzer target: the bytes an untrusted peer sends, through the frame decoder (split at a
// point the input chooses) and every message decoder. Must never crash, hang or allocate by an
// untrusted length.
#include <cstdint>
#include <string>

#include "protocol/codec.h"
#include "protocol/frame_decoder.h"

using namespace hvterm;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  size_t split = data[0] % (size + 1);
  std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  split = std::min(split, bytes.size());
  wire::FrameDecoder decoder;
  decoder.feed(Slice::copy_of(bytes.substr(0, split)));
  wire::Frame frame;
  bool fed_rest = false;
  for (;;) {
    auto status = decoder.next(frame);
    if (status == wire::FrameDecoder::Status::Error) break;
    if (status == wire::FrameDecoder::Status::NeedMore) {
      if (fed_rest) break;
      decoder.feed(Slice::copy_of(bytes.substr(split)));
      fed_rest = true;
      continue;
    }
    if (frame.payload.size() > wire::kMaxPayload) __builtin_trap();
    std::string_view p = frame.payload.view();
    wire::Hello hello;
    wire::Open open;
    wire::Attach attach;
    wire::SessionInfo info;
    wire::Exit exit;
    wire::ErrorMsg error;
    wire::ListEntry entry;
    wire::Kill kill;
    wire::WinSize size;
    wire::Stream stream;
    uint64_t offset;
    uint8_t sig;
    Slice payload;
    // Whatever decodes must encode back to the same payload (HELLO may carry trailing bytes).
    if (wire::decode(p, open) && wire::encode(open) != wire::frame(wire::FrameType::Open, p)) __builtin_trap();
    if (wire::decode(p, attach) && wire::encode(attach) != wire::frame(wire::FrameType::Attach, p)) __builtin_trap();
    (void)wire::decode(p, hello);
    (void)wire::decode(p, info);
    (void)wire::decode(p, exit);
    (void)wire::decode(p, error);
    (void)wire::decode(p, entry);
    (void)wire::decode(p, kill);
    (void)wire::decode_window_size(p, size);
    (void)wire::decode_stream_offset(p, stream, offset);
    (void)wire::decode_signal(p, sig);
    (void)wire::decode_ping(p, offset);
    (void)wire::decode_data(frame.payload, stream, offset, payload);
  }
  return 0;
}
