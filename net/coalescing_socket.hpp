// A TCP socket for Beast's WebSocket stream that gathers writes: while one write is on the
// wire, the frames written meanwhile are copied into one buffer and go out together in the next
// write, one syscall for a whole batch instead of one `sendmsg` per frame. An idle connection's
// first frame still goes out at once, so nothing waits for company.
//
// Writes complete as soon as their bytes are buffered. `accepted()` and `flushed()` count bytes
// since the start (monotonic), and the flush hook runs after each write that reached the wire,
// so the session can keep counting a frame against its outbound bound until its bytes are out.
// A failed write fails every later one with the same error. Reads pass straight through.
//
// Strand only (the session's), like the stream it sits under. `keep_alive` holds the session
// while a write is on the wire, which Beast no longer knows about.
#pragma once

#include "common/metrics.hpp"
#include "net/beast.hpp"

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace parley::net {

class coalescing_socket {
public:
  using executor_type = tcp::socket::executor_type;
  using next_layer_type = tcp::socket;

  explicit coalescing_socket(tcp::socket&& socket) : socket_(std::move(socket)) {}

  executor_type get_executor() noexcept { return socket_.get_executor(); }
  tcp::socket& next_layer() noexcept { return socket_; }
  const tcp::socket& next_layer() const noexcept { return socket_; }

  // What the session keeps alive while a write is on the wire (set once, after construction).
  void keep_alive(std::weak_ptr<void> owner) { owner_ = std::move(owner); }

  // Bytes accepted by writes, and bytes on the wire (or dropped after an error), since the start.
  uint64_t accepted() const { return accepted_; }
  uint64_t flushed() const { return flushed_; }
  std::size_t buffered() const { return static_cast<std::size_t>(accepted_ - flushed_); }

  // Runs after every write that completed (also after a failed one).
  void on_flush(std::function<void()> hook) { hook_ = std::move(hook); }

  template <class MutableBufferSequence, class ReadHandler>
  auto async_read_some(const MutableBufferSequence& buffers, ReadHandler&& handler) {
    return socket_.async_read_some(buffers, std::forward<ReadHandler>(handler));
  }

  template <class ConstBufferSequence, class WriteHandler>
  auto async_write_some(const ConstBufferSequence& buffers, WriteHandler&& handler) {
    return asio::async_initiate<WriteHandler, void(beast::error_code, std::size_t)>(
      [this](auto done, const ConstBufferSequence& bufs) {
        if (error_) {
          asio::post(socket_.get_executor(),
                     beast::bind_front_handler(std::move(done), error_, std::size_t{0}));
          return;
        }
        auto n = asio::buffer_size(bufs);
        auto old = pending_.size();
        pending_.resize(old + n);
        asio::buffer_copy(asio::buffer(&pending_[old], n), bufs);
        accepted_ += n;
        flush();
        asio::post(socket_.get_executor(),
                   beast::bind_front_handler(std::move(done), beast::error_code{}, n));
      },
      handler, buffers);
  }

  // Runs `then` once everything accepted so far is on the wire (or failed).
  template <class F>
  void after_flush(F then) {
    if (!writing_ && pending_.empty())
      return asio::post(socket_.get_executor(), std::move(then));
    waiters_.push_back(std::make_unique<waiter_of<F>>(std::move(then)));
  }

private:
  // A move-only callable waiting for the flush (Beast's handlers cannot be copied).
  struct waiter {
    virtual ~waiter() = default;
    virtual void run() = 0;
  };
  template <class F>
  struct waiter_of : waiter {
    explicit waiter_of(F fn) : f(std::move(fn)) {}
    void run() override { f(); }
    F f;
  };

  void flush() {
    if (writing_ || pending_.empty())
      return;
    static auto& writes = metrics::global().get_counter(
      "ws_socket_writes_total", "Socket writes of WebSocket bytes (one carries every frame queued meanwhile)");
    writes.inc();
    writing_ = true;
    in_flight_.swap(pending_);
    asio::async_write(socket_, asio::buffer(in_flight_),
                      [this, owner = owner_.lock()](beast::error_code ec, std::size_t) {
                        on_flushed(ec);
                      });
  }

  void on_flushed(beast::error_code ec) {
    writing_ = false;
    flushed_ += in_flight_.size();
    in_flight_.clear();
    if (ec && !error_)
      error_ = ec;
    if (error_) {
      flushed_ += pending_.size();
      pending_.clear();
    }
    if (hook_)
      hook_();
    if (!pending_.empty())
      return flush();
    // Idle again: an idle connection holds no write buffer.
    in_flight_.shrink_to_fit();
    auto waiters = std::move(waiters_);
    waiters_.clear();
    for (auto& w : waiters)
      w->run();
  }

  tcp::socket socket_;
  std::string pending_;    // accepted while a write is on the wire
  std::string in_flight_;  // on the wire
  std::vector<std::unique_ptr<waiter>> waiters_;
  std::weak_ptr<void> owner_;
  std::function<void()> hook_;
  uint64_t accepted_ = 0;
  uint64_t flushed_ = 0;
  beast::error_code error_;
  bool writing_ = false;
};

// Beast closes a WebSocket by tearing its next layer down: after what is buffered (the close
// frame among it) is on the wire, the plain socket's teardown runs.
template <class TeardownHandler>
void async_teardown(beast::role_type role, coalescing_socket& stream, TeardownHandler&& handler) {
  stream.after_flush([role, &stream, h = std::forward<TeardownHandler>(handler)]() mutable {
    websocket::async_teardown(role, stream.next_layer(), std::move(h));
  });
}

inline void teardown(beast::role_type role, coalescing_socket& stream, beast::error_code& ec) {
  websocket::teardown(role, stream.next_layer(), ec);
}

} // namespace parley::net
