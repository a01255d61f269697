#include "client/cp_command.h"

#include <csignal>
#include <iostream>
#include <memory>
#include <utility>
#include <vector>

#include "client/local_io.h"
#include "common/log.h"
#include "common/printable.h"
#include "common/signal_watch.h"
#include "common/timer.h"
#include "copy/progress.h"
#include "copy/pump.h"
#include "platform/file_tree.h"
#include "platform/sockets.h"
#include "platform/terminal.h"

namespace hvterm {
namespace {

bool all_digits(const std::string& s) { return !s.empty() && s.find_first_not_of("0123456789") == std::string::npos; }

bool looks_like_guid(const std::string& s) {
  return s.size() == 36 && s.find_first_not_of("0123456789abcdefABCDEF-") == std::string::npos;
}

// Splits TARGET:PATH; false (with `error`) when the target's form cannot be told apart from the path.
bool split_remote(const std::string& operand, std::string& target, std::string& path, std::string& error) {
  size_t colon = operand.find(':');
  std::string scheme = operand.substr(0, colon);
  if (scheme == "unix" || scheme == "hybrid") {
    error = "'" + printable(operand) + "': a " + scheme + ": target holds a path of its own; write --target " + scheme +
            ":... and the guest's path as :PATH";
    return false;
  }
  if (scheme == "vsock" || scheme == "hv") {
    // vsock:CID[:PORT]:PATH: the third field is the port only when a path follows it.
    size_t second = operand.find(':', colon + 1);
    if (second == std::string::npos || second == colon + 1) {
      error = "'" + printable(operand) + "': write " + scheme + ":" + (scheme == "hv" ? "VMID" : "CID") + ":PATH";
      return false;
    }
    size_t third = operand.find(':', second + 1);
    std::string field = third == std::string::npos ? "" : operand.substr(second + 1, third - second - 1);
    size_t end = third != std::string::npos && (all_digits(field) || (scheme == "hv" && looks_like_guid(field)))
                     ? third
                     : second;
    target = operand.substr(0, end);
    path = operand.substr(end + 1);
  } else {
    target = scheme;
    path = operand.substr(colon + 1);
  }
  if (path.empty()) path = ".";  // TARGET: alone is the home directory, as scp has it
  return true;
}

bool is_remote(const std::string& operand, bool explicit_target) {
  if (explicit_target) return !operand.empty() && operand[0] == ':';
  size_t colon = operand.find(':');
  if (colon == std::string::npos || colon == 0) return false;
  if (operand.find('/') < colon) return false;  // ./a:b is a local file
  // C:\x and C:/x are Windows drive letters.
  if (colon == 1 && operand.size() > 2 && (operand[2] == '\\' || operand[2] == '/')) return false;
  return true;
}

}  // namespace

std::optional<CopyOperands> parse_copy_operands(const std::vector<std::string>& operands, const std::string& target,
                                                std::string& error) {
  if (operands.size() < 2) {
    error = "cp needs a source and a destination (see 'hvterm cp --help')";
    return std::nullopt;
  }
  bool explicit_target = !target.empty();
  CopyOperands result;
  result.target = target;
  std::vector<std::pair<bool, std::string>> parts;  // remote?, path
  for (const auto& operand : operands) {
    if (operand.empty()) {
      error = "an empty path";
      return std::nullopt;
    }
    bool remote = is_remote(operand, explicit_target);
    std::string path = operand;
    if (remote && explicit_target) {
      path = operand.substr(1);
      if (path.empty()) path = ".";
    } else if (remote) {
      std::string this_target;
      if (!split_remote(operand, this_target, path, error)) return std::nullopt;
      if (!result.target.empty() && this_target != result.target) {
        error = "the guest's paths name two targets ('" + printable(result.target) + "' and '" +
                printable(this_target) + "'); copy from one at a time";
        return std::nullopt;
      }
      result.target = this_target;
    }
    parts.emplace_back(remote, path);
  }
  bool dest_remote = parts.back().first;
  size_t remote_sources = 0;
  for (size_t i = 0; i + 1 < parts.size(); ++i) remote_sources += parts[i].first ? 1 : 0;
  if (!dest_remote && remote_sources == 0) {
    error = explicit_target ? "with --target, write the guest's path as :PATH"
                            : "name the guest's side as TARGET:PATH (or --target TARGET and :PATH)";
    return std::nullopt;
  }
  if ((dest_remote && remote_sources > 0) || (!dest_remote && remote_sources != parts.size() - 1)) {
    error = "copy either into the guest (SRC... TARGET:DEST) or out of it (TARGET:SRC... DEST), not both";
    return std::nullopt;
  }
  result.into_guest = dest_remote;
  for (size_t i = 0; i + 1 < parts.size(); ++i) result.sources.push_back(parts[i].second);
  result.dest = parts.back().second;
  bool stdin_source = false;
  for (const auto& s : result.sources) stdin_source = stdin_source || (s == "-" && result.into_guest);
  if (stdin_source && result.sources.size() > 1) {
    error = "'-' (stdin) must be the only source";
    return std::nullopt;
  }
  if (!result.into_guest && result.dest == "-" && result.sources.size() > 1) {
    error = "'-' (stdout) takes one source";
    return std::nullopt;
  }
  return result;
}

int command_cp(ClientOptions options, const CopyOperands& operands, const CopyOptions& copy) {
  uv_loop_t* loop = uv_default_loop();
  bool several = operands.sources.size() > 1;
  options.escape = 0;
  options.open.mode = wire::SessionMode::Copy;
  options.open.copy.direction = operands.into_guest ? wire::CopySpec::Direction::IntoGuest
                                                    : wire::CopySpec::Direction::OutOfGuest;
  options.open.copy.flags = static_cast<uint8_t>((copy.recursive ? wire::CopySpec::kRecursive : 0) |
                                                 (copy.preserve ? wire::CopySpec::kPreserve : 0) |
                                                 (copy.no_clobber ? wire::CopySpec::kNoClobber : 0) |
                                                 (copy.resume ? wire::CopySpec::kResume : 0) |
                                                 (several ? wire::CopySpec::kInto : 0));
  if (operands.into_guest)
    options.open.copy.paths = {operands.dest};
  else
    options.open.copy.paths = operands.sources;
  size_t request_size = wire::encode(options.open).size();
  if (request_size > wire::kMaxPayload) {
    std::cerr << "hvterm: cp: too many or too long source paths for one request\n";
    return 2;
  }

  bool local_failed = false;
  int status = 0;
  {
    LocalWriter messages(loop, 2);
    // On a terminal the progress line is redrawn in place; elsewhere (--progress) each is a line.
    bool terminal = platform::is_terminal(2);
    bool line_open = false;
    auto clear_line = [&] {
      if (std::exchange(line_open, false)) messages.write(Slice::copy_of("\r\x1b[K"), [](size_t, int) {});
    };
    auto warn = [&](const std::string& line) {
      local_failed = true;
      clear_line();
      messages.write(Slice::copy_of("hvterm: cp: " + line + "\n"), [](size_t, int) {});
    };
    // Local mistakes are said before connecting: a destination that cannot take the copy.
    copy::Placement placement;
    std::string error;
    if (!operands.into_guest && !copy::place(operands.dest, several, placement, error)) {
      std::cerr << "hvterm: cp: " << error << "\n";
      return 1;
    }
    uv_stream_t* ends[2];
    if (!platform::stream_pair(loop, ends, error)) {
      std::cerr << "hvterm: cp: " << error << "\n";
      return 255;
    }
    std::unique_ptr<copy::Walker> walker;
    std::unique_ptr<copy::Extractor> extractor;
    bool pump_done = false, session_done = false;
    std::string pump_error;
    auto maybe_stop = [&] {
      if (session_done && (pump_done || operands.into_guest)) uv_stop(loop);
    };
    copy::CopyPump pump(ends[1], [&](const std::string& why) {
      pump_done = true;
      pump_error = why;
      maybe_stop();
    });
    if (operands.into_guest) {
      walker = std::make_unique<copy::Walker>(operands.sources, copy.recursive, warn);
      if (copy.resume) walker->resume_partials();
      pump.send(*walker);
    } else {
      copy::Extractor::Options extract;
      extract.preserve = copy.preserve;
      extract.no_clobber = copy.no_clobber;
      extract.resume = copy.resume;
      auto to_stdout = [](std::string_view bytes, std::string& why) {
        return platform::write_file(1, bytes.data(), bytes.size(), why);
      };
      extractor = std::make_unique<copy::Extractor>(placement, extract, warn, to_stdout);
      pump.receive(*extractor, copy.resume);
    }
    copy::Progress progress(uv_now(loop));
    auto done_bytes = [&] { return walker ? walker->bytes_read() : extractor->bytes_written(); };
    auto resumed_bytes = [&] { return walker ? walker->bytes_resumed() : extractor->bytes_resumed(); };
    Timer ticker;
    if (copy.progress) {
      ticker.start(loop, copy::Progress::kMinIntervalMs, copy::Progress::kMinIntervalMs, [&] {
        progress.set_total(walker ? walker->total_bytes_known() : extractor->total());
        progress.set_resumed(resumed_bytes());
        const std::string& name = walker ? walker->current() : extractor->current();
        if (name.empty()) return;
        auto line = progress.update(printable(name), done_bytes(), uv_now(loop));
        if (!line) return;
        line_open = terminal;
        messages.write(Slice::copy_of(terminal ? "\r" + *line + "\x1b[K" : *line + "\n"), [](size_t, int) {});
      });
    }
    SessionClient client(loop, options);
    client.start(ForwardedEnds{share_stream(ends[0]), &messages, "cp: ",
                               [&](const std::string& line) {
                                 clear_line();
                                 messages.write(Slice::copy_of("hvterm: " + line + "\n"), [](size_t, int) {});
                               }},
                 [&](int code) {
                   status = code;
                   session_done = true;
                   maybe_stop();
                 });
    // Ctrl-C stops the copy in the agent too (a file it was writing is removed), instead of
    // leaving it to wait for the rest of a stream that will not come.
    static constexpr int kStopSignals[] = {SIGINT, SIGTERM, SIGHUP};
    SignalWatch signals;
    bool interrupted = false;
    signals.start(loop, kStopSignals, [&client, &interrupted, &extractor](int signum) {
      interrupted = true;
      if (extractor) extractor->abandon();
      client.interrupt(signum);
    });
    uv_run(loop, UV_RUN_DEFAULT);
    signals.close();
    ticker.close();
    // Stopped on purpose: nothing stays behind. Otherwise (the connection is lost for good, say)
    // a file cut short stays under its partial name, for the same copy again with --resume.
    if (interrupted && extractor) extractor->abandon();
    if (copy.progress) {
      clear_line();
      progress.set_resumed(resumed_bytes());
      messages.write(Slice::copy_of(progress.summary(done_bytes(), uv_now(loop)) + "\n"), [](size_t, int) {});
    }
    if (extractor && !extractor->fatal_error().empty() && status != 255) {
      messages.write(Slice::copy_of("hvterm: cp: " + extractor->fatal_error() + "\n"), [](size_t, int) {});
      local_failed = true;
    }
    if (!pump_error.empty() && status == 0) {
      messages.write(Slice::copy_of("hvterm: cp: " + pump_error + "\n"), [](size_t, int) {});
      local_failed = true;
    }
    pump.close(nullptr);
    messages.close_when_drained();
    uv_run(loop, UV_RUN_DEFAULT);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  if (status == 0 && local_failed) return 1;
  return status;
}

}  // namespace hvterm
