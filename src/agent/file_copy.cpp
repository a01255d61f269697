#include "agent/file_copy.h"

#include <utility>

#include "common/log.h"
#include "platform/file_tree.h"
#include "platform/sockets.h"
#include "platform/system.h"

namespace hvterm {

FileCopy::FileCopy(uv_loop_t* loop, wire::CopySpec spec, std::function<void(const wire::Exit&)> ended)
    : loop_(loop), spec_(std::move(spec)), on_ended_(std::move(ended)) {}

FileCopy::~FileCopy() {
  pump_.reset();
  for (auto* s : {data_[0], messages_[0], messages_[1]})
    if (s != nullptr) platform::close_stream(s);
}

std::string FileCopy::resolve(const std::string& path) const {
  if (platform::is_absolute_path(path)) return path;
  auto user = platform::current_user();
  return platform::join_path(user && !user->home.empty() ? user->home : std::string("/"), path);
}

bool FileCopy::start(std::string& error) {
  if (!platform::stream_pair(loop_, data_, error)) return false;
  if (!platform::stream_pair(loop_, messages_, error)) return false;
  // Nothing comes back on the message pair: its reading side is the session's alone.
  auto warn = [this](const std::string& line) { say(line); };
  pump_ = std::make_unique<copy::CopyPump>(std::exchange(data_[1], nullptr),
                                           [this](const std::string& error) { copied(error); });
  bool recursive = (spec_.flags & wire::CopySpec::kRecursive) != 0;
  if (spec_.direction == wire::CopySpec::Direction::OutOfGuest) {
    std::vector<std::string> sources;
    for (const auto& p : spec_.paths) sources.push_back(resolve(p));
    walker_ = std::make_unique<copy::Walker>(std::move(sources), recursive, warn);
    if ((spec_.flags & wire::CopySpec::kResume) != 0) walker_->resume_partials();
    pump_->send(*walker_);
    return true;
  }
  copy::Placement placement;
  std::string why;
  if (!copy::place(resolve(spec_.paths[0]), (spec_.flags & wire::CopySpec::kInto) != 0, placement, why) ||
      placement.to_stdout) {
    // Said, and the copy ends; what the client sends meanwhile is consumed by definition.
    say(why.empty() ? "-: not a path in the guest" : why);
    failed_ = true;
    pump_->close(nullptr);  // the session's stdout ends with it
    soon_.start(loop_, 0, 0, [this] { end(1); });
    return true;
  }
  copy::Extractor::Options options;
  options.preserve = (spec_.flags & wire::CopySpec::kPreserve) != 0;
  options.no_clobber = (spec_.flags & wire::CopySpec::kNoClobber) != 0;
  options.resume = (spec_.flags & wire::CopySpec::kResume) != 0;
  extractor_ = std::make_unique<copy::Extractor>(placement, options, warn);
  pump_->receive(*extractor_, options.resume);
  return true;
}

void FileCopy::say(const std::string& line) {
  if (messages_[1] == nullptr) return;
  struct Line {
    uv_write_t request;
    std::string text;
  };
  auto* w = new Line{{}, "hvterm: cp: " + line + "\n"};
  w->request.data = w;
  uv_buf_t buf = uv_buf_init(w->text.data(), static_cast<unsigned>(w->text.size()));
  if (uv_write(&w->request, messages_[1], &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<Line*>(req->data); }) != 0)
    delete w;
}

void FileCopy::copied(const std::string& error) {
  if (!error.empty()) say(error);
  if (extractor_) {
    if (!extractor_->fatal_error().empty()) say(extractor_->fatal_error());
    failed_ = failed_ || extractor_->failed() || !extractor_->fatal_error().empty();
  }
  if (walker_) failed_ = failed_ || walker_->failed();
  end(failed_ || !error.empty() ? 1 : 0);
}

void FileCopy::end(int code) {
  if (std::exchange(ended_, true)) return;
  // The messages end once the lines before are out: the session reads them all, then EOF.
  if (messages_[1] != nullptr) {
    messages_shutdown_.data = nullptr;
    uv_shutdown(&messages_shutdown_, messages_[1], [](uv_shutdown_t*, int) {});
  }
  log::debug("copy ended with " + std::to_string(code));
  on_ended_(wire::Exit{wire::ExitKind::Exited, code, ""});
}

void FileCopy::close_input() {
  if (std::exchange(input_closed_, true) || data_[0] == nullptr) return;
  if (uv_shutdown(&input_shutdown_, data_[0], [](uv_shutdown_t*, int) {}) != 0) input_closed_ = true;
}

int FileCopy::signal(int signal) { return stop(signal, false); }

int FileCopy::stop(int signal, bool keep_partial) {
  if (ended_) return UV_ESRCH;
  ended_ = true;
  if (pump_) pump_->close(nullptr);
  if (messages_[1] != nullptr) uv_shutdown(&messages_shutdown_, messages_[1], [](uv_shutdown_t*, int) {});
  // Nothing partial is ever under a final name. A copy stopped on purpose leaves nothing; one whose
  // client is gone (hung up) leaves what it wrote under the partial name, for --resume.
  if (extractor_ && !keep_partial) extractor_->abandon();
  extractor_.reset();
  on_ended_(wire::Exit{wire::ExitKind::Signaled, signal, ""});
  return 0;
}

void FileCopy::close(std::function<void()> on_closed) {
  soon_.close();
  auto remaining = std::make_shared<int>(1);
  auto one_done = [remaining, on_closed = std::move(on_closed)] {
    if (--*remaining == 0 && on_closed) on_closed();
  };
  if (pump_) {
    ++*remaining;
    pump_->close(one_done);
  }
  extractor_.reset();
  for (auto** s : {&data_[0], &messages_[0], &messages_[1]}) {
    if (*s == nullptr) continue;
    ++*remaining;
    platform::close_stream(std::exchange(*s, nullptr), one_done);
  }
  one_done();
}

}  // namespace hvterm
