#pragma once
// Encoding and decoding of frames and message payloads. Pure functions over bytes: no I/O.
#include <optional>
#include <string>
#include <string_view>

#include "common/buffer.h"
#include "protocol/wire.h"

namespace hvterm::wire {

struct Frame {
  FrameType type{};
  Slice payload;
};

// Frame header for a payload of `payload_size` bytes, written into out[0..kHeaderSize).
void put_header(char* out, FrameType type, size_t payload_size);

// A whole frame (header + payload) as one string, for control messages.
std::string frame(FrameType type, std::string_view payload);

// DATA frames are sent as header+prefix (this) followed by the payload slice, so the payload is
// never copied. `out` must hold kHeaderSize + kDataOverhead bytes.
void put_data_prefix(char* out, Stream stream, uint64_t offset, size_t bytes);
inline constexpr size_t kDataPrefixSize = kHeaderSize + kDataOverhead;

std::string encode(const Hello&);
std::string encode(const Open&);
std::string encode(const Attach&);
// The role goes only to a client that announced kCapViewers.
std::string encode(const SessionInfo&, bool with_role = false);
std::string encode(const Exit&);
std::string encode(const ErrorMsg&);
// The name goes only to a client that announced kCapNames (an older one rejects a longer entry).
// The client count (after the name) only to one that announced kCapViewers.
std::string encode(const ListEntry&, bool with_name, bool with_clients = false);
std::string encode(const Kill&);
std::string encode_eof(Stream stream, uint64_t offset);
std::string encode_ack(Stream stream, uint64_t offset);
std::string encode_window_size(const WinSize&);
std::string encode_signal(uint8_t wire_signal);
std::string encode_ping(uint64_t token, FrameType type = FrameType::Ping);
std::string encode_empty(FrameType type);

// Payload decoders: false when the payload is malformed (short, over-long, bad value).
bool decode(std::string_view payload, Hello& out);
bool decode(std::string_view payload, Open& out);
bool decode(std::string_view payload, Attach& out);
bool decode(std::string_view payload, SessionInfo& out);
bool decode(std::string_view payload, Exit& out);
bool decode(std::string_view payload, ErrorMsg& out);
bool decode(std::string_view payload, ListEntry& out);
bool decode(std::string_view payload, Kill& out);
bool decode_data(const Slice& payload, Stream& stream, uint64_t& offset, Slice& bytes);
bool decode_stream_offset(std::string_view payload, Stream& stream, uint64_t& offset);  // EOF, ACK
bool decode_window_size(std::string_view payload, WinSize& out);
bool decode_signal(std::string_view payload, uint8_t& wire_signal);
bool decode_ping(std::string_view payload, uint64_t& token);

}  // namespace hvterm::wire
