#include "agent/session_viewer.h"

#include "agent/connection.h"
#include "protocol/codec.h"

namespace hvterm {

Viewer::Viewer(AgentConnection* connection, bool read_only, const wire::WinSize& size, size_t capacity, uint64_t serial)
    : connection_(connection),
      read_only_(read_only),
      size_(size),
      serial_(serial),
      output_{OutboundStream(wire::Stream::Stdout, capacity), OutboundStream(wire::Stream::Stderr, capacity)} {
  output_[1].finish();  // a terminal session has no stderr
}

bool Viewer::on_ack(wire::Stream stream, uint64_t position) {
  if (stream == wire::Stream::Stdin) return false;
  return output_[stream == wire::Stream::Stdout ? 0 : 1].ack(position);
}

void Viewer::pump(const std::optional<wire::Exit>& exit) {
  FramedConnection& conn = connection_->framed();
  for (auto& output : output_) output.pump(conn);
  if (exit && !exit_sent_ && output_[0].all_sent() && output_[1].all_sent()) {
    conn.send(wire::encode(*exit));
    exit_sent_ = true;
  }
}

std::optional<Slice> Viewer::accept_input(uint64_t offset, Slice bytes, std::string& problem) {
  if (read_only_) {
    problem = "DATA from a read-only viewer";
    return std::nullopt;
  }
  return input_.accept_stdin(offset, std::move(bytes), input_window_base_, problem);
}

void Viewer::input_consumed(size_t bytes) {
  input_.consumed(bytes);
  if (input_.ack_due(true) != InboundStream::AckDue::Now) return;
  uint64_t position = input_.ack_position();
  connection_->framed().send(wire::encode_ack(wire::Stream::Stdin, position));
  input_.ack_sent();
  input_window_base_ = position;
}

}  // namespace hvterm
