#pragma once
// A viewer: one more terminal showing a PTY session that a client shows already (hvterm attach
// without --take), as tmux lets several clients show one session. The session's own client keeps
// the exact, resumable streams; a viewer gets streams of its own, numbered from 0: first the
// screen as the agent keeps it, then the program's output as the session reads it. Its keystrokes
// (unless it is read-only) go to the program too, numbered in its own stdin stream. A viewer whose
// connection is cut is forgotten; its client joins again and is shown the screen again.
#include <cstdint>
#include <optional>
#include <string>

#include "common/buffer.h"
#include "protocol/wire.h"
#include "session/inbound_stream.h"
#include "session/outbound_stream.h"

namespace hvterm {

class AgentConnection;

class Viewer {
 public:
  Viewer(AgentConnection* connection, bool read_only, const wire::WinSize& size, size_t capacity, uint64_t serial);

  AgentConnection* connection() const { return connection_; }
  bool read_only() const { return read_only_; }
  uint64_t serial() const { return serial_; }  // names it to input writes that outlive it
  const wire::WinSize& size() const { return size_; }
  void set_size(const wire::WinSize& size) { size_ = size; }

  // Output: what to show, in order; then the end.
  void show(const Slice& bytes) { output_[0].append(bytes); }
  void finish() { output_[0].finish(); }
  bool full() const { return output_[0].unacked() >= output_[0].capacity(); }
  bool on_ack(wire::Stream stream, uint64_t position);
  // Sends what is due; the exit status once every byte and both EOFs are out.
  void pump(const std::optional<wire::Exit>& exit);

  // Input: the part of DATA(offset, bytes) to hand to the program, or nullopt with `problem`.
  std::optional<Slice> accept_input(uint64_t offset, Slice bytes, std::string& problem);
  void input_consumed(size_t bytes);  // the program's terminal took them: acknowledged at once

 private:
  AgentConnection* connection_;
  bool read_only_;
  wire::WinSize size_;
  uint64_t serial_;
  OutboundStream output_[2];
  InboundStream input_;
  uint64_t input_window_base_ = 0;  // the furthest stdin position announced to this viewer
  bool exit_sent_ = false;
};

}  // namespace hvterm
