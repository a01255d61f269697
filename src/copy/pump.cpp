#include "copy/pump.h"

#include <memory>
#include <utility>

#include "platform/sockets.h"

namespace hvterm::copy {
namespace {

// Enough in flight to keep a socket pair busy; little enough that a slow peer holds us back.
constexpr size_t kMaxInFlight = 1024 * 1024;
constexpr size_t kPiece = 256 * 1024;
constexpr size_t kReadBuffer = 256 * 1024;

}  // namespace

struct CopyPump::Write {
  uv_write_t request{};
  std::string bytes;
  CopyPump* owner;
  std::shared_ptr<bool> alive;
};

CopyPump::CopyPump(uv_stream_t* stream, std::function<void(const std::string&)> done)
    : stream_(stream), done_(std::move(done)) {
  stream_->data = this;
}

CopyPump::~CopyPump() {
  *alive_ = false;
  if (stream_ != nullptr) platform::close_stream(stream_);
}

void CopyPump::send(Walker& walker) {
  walker_ = &walker;
  read_buffer_.resize(kReadBuffer);
  start_reading([](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    static_cast<CopyPump*>(s->data)->on_answers(nread, buf);
  });
  pump_out();
}

void CopyPump::start_reading(void (*on_read)(uv_stream_t*, ssize_t, const uv_buf_t*)) {
  uv_read_start(
      stream_,
      [](uv_handle_t* h, size_t, uv_buf_t* buf) {
        auto* self = static_cast<CopyPump*>(h->data);
        *buf = uv_buf_init(self->read_buffer_.data(), static_cast<unsigned>(self->read_buffer_.size()));
      },
      on_read);
}

// The receiver's answers to a resuming walk; without resuming the other direction just ends.
void CopyPump::on_answers(ssize_t nread, const uv_buf_t* buf) {
  if (finished_) return;
  if (nread > 0) {
    if (!walker_->resuming()) return;
    answers_.feed(std::string_view(buf->base, static_cast<size_t>(nread)));
    Partial partial;
    // One question at a time: the walk waits after each file record for its answer.
    if (!answers_.next(partial)) return;  // the rest of it comes with the next read
    if (!walker_->waiting() || answers_.next(partial))
      return finish("the receiver answered a file it was not asked about");
    walker_->answer(partial);
    return pump_out();
  }
  if (nread == 0) return;
  uv_read_stop(stream_);
  if (walker_->waiting()) finish("the receiver stopped answering before the copy was over");
}

void CopyPump::pump_out() {
  if (pumping_ || finished_ || stream_ == nullptr) return;  // a write that completes at once comes back here
  pumping_ = true;
  while (!walk_over_ && !walker_->waiting() && in_flight_ < kMaxInFlight) {
    auto* write = new Write{{}, {}, this, alive_};
    walk_over_ = !walker_->produce(write->bytes, kPiece);
    size_t size = write->bytes.size();
    if (size == 0) {  // the walk checked a partial file's bytes: the rest of it on the next turn
      delete write;
      if (!walk_over_ && !walker_->waiting()) next_turn_.start(stream_->loop, 0, 0, [this] { pump_out(); });
      break;
    }
    in_flight_ += size;
    write->request.data = write;
    uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(size));
    int rc = uv_write(&write->request, stream_, &buf, 1, [](uv_write_t* req, int status) {
      std::unique_ptr<Write> w(static_cast<Write*>(req->data));
      if (*w->alive) w->owner->on_written(w->bytes.size(), status);
    });
    if (rc != 0) {
      delete write;
      pumping_ = false;
      return finish(std::string("cannot send the copy: ") + uv_strerror(rc));
    }
  }
  pumping_ = false;
  if (walk_over_ && in_flight_ == 0 && shutdown_.data == nullptr) {
    shutdown_.data = this;
    int rc = uv_shutdown(&shutdown_, stream_, [](uv_shutdown_t* req, int status) {
      if (status == UV_ECANCELED) return;
      auto* self = static_cast<CopyPump*>(req->data);
      self->finish(status == 0 ? "" : std::string("cannot end the copy: ") + uv_strerror(status));
    });
    if (rc != 0) finish(std::string("cannot end the copy: ") + uv_strerror(rc));
  }
}

void CopyPump::on_written(size_t bytes, int status) {
  in_flight_ -= bytes;
  if (status != 0) return finish(std::string("cannot send the copy: ") + uv_strerror(status));
  bytes_ += bytes;
  pump_out();
}

void CopyPump::receive(Extractor& extractor, bool answers) {
  extractor_ = &extractor;
  read_buffer_.resize(kReadBuffer);
  answering_ = answers;
  if (answers)
    extractor.answer_to([this](std::string bytes) { write_answer(std::move(bytes)); });
  else
    end_answers();  // nothing goes the other way: the peer hears so at once
  start_reading([](uv_stream_t* s, ssize_t nread, const uv_buf_t* buf) {
    static_cast<CopyPump*>(s->data)->on_read(nread, buf);
  });
}

void CopyPump::keep_hashing() {
  if (!extractor_->busy() || finished_) return;
  next_turn_.start(stream_->loop, 0, 0, [this] {
    extractor_->work(kPiece);
    keep_hashing();
  });
}

void CopyPump::write_answer(std::string bytes) {
  if (stream_ == nullptr || !answering_) return;
  auto* write = new Write{{}, std::move(bytes), this, alive_};
  write->request.data = write;
  uv_buf_t buf = uv_buf_init(write->bytes.data(), static_cast<unsigned>(write->bytes.size()));
  // A failed answer shows as the sender's: it stops waiting when this direction ends.
  if (uv_write(&write->request, stream_, &buf, 1,
               [](uv_write_t* req, int) { delete static_cast<Write*>(req->data); }) != 0)
    delete write;
}

void CopyPump::end_answers() {
  answering_ = false;
  auto* req = new uv_shutdown_t;
  if (uv_shutdown(req, stream_, [](uv_shutdown_t* r, int) { delete r; }) != 0) delete req;
}

void CopyPump::on_read(ssize_t nread, const uv_buf_t* buf) {
  if (finished_) return;
  if (nread > 0) {
    bytes_ += static_cast<uint64_t>(nread);
    if (!extractor_->feed(std::string_view(buf->base, static_cast<size_t>(nread)))) {
      uv_read_stop(stream_);
      extractor_->finish();
      return finish("");  // the extractor says why
    }
    return keep_hashing();
  }
  if (nread == 0) return;
  uv_read_stop(stream_);
  extractor_->finish();
  if (answering_) end_answers();
  finish(nread == UV_EOF ? "" : std::string("the copy stream broke: ") + uv_strerror(static_cast<int>(nread)));
}

void CopyPump::finish(const std::string& error) {
  if (std::exchange(finished_, true)) return;
  if (done_) done_(error);
}

void CopyPump::close(std::function<void()> closed) {
  finished_ = true;
  next_turn_.close();
  if (stream_ == nullptr) {
    if (closed) closed();
    return;
  }
  if (!closed) return platform::close_stream(std::exchange(stream_, nullptr));
  platform::close_stream(std::exchange(stream_, nullptr), std::move(closed));
}

}  // namespace hvterm::copy
