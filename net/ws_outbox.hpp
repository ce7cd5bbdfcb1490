// What a WebSocket session has to write: frames appended while a write is on the wire wait in
// one buffer and go out together in the next write, one syscall for a whole batch instead of one
// `sendmsg` per frame; an idle connection's first frame goes out at once. Each frame's payload
// keeps counting against the session's outbound bound until its last byte is on the wire.
// A busy connection keeps its two buffers between writes (no allocation per batch); `trim`
// gives them back once it is idle. No sockets here: the session does the writing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace parley::net::ws {

class outbox {
public:
  // Where frames are appended (ws::append_frame); call `counted` after each.
  std::string& pending() { return pending_; }

  // The frame just appended counts `bytes` against the bound until it is written.
  void counted(size_t bytes) {
    if (bytes > 0)
      counted_.push_back({flushed_ + in_flight_.size() + pending_.size(), bytes});
  }

  bool writing() const { return writing_; }
  bool idle() const { return !writing_ && pending_.empty(); }

  // Starts a write of everything pending; the bytes stay valid until `written`. Only when
  // !writing() and something is pending.
  const std::string& start_write() {
    writing_ = true;
    in_flight_.swap(pending_);
    return in_flight_;
  }

  // The write ended (on the wire, or failed: then nothing more will be); returns the counted
  // bytes released.
  size_t written() {
    writing_ = false;
    flushed_ += in_flight_.size();
    in_flight_.clear();
    size_t released = 0, done = 0;
    while (done < counted_.size() && counted_[done].end <= flushed_)
      released += counted_[done++].bytes;
    counted_.erase(counted_.begin(), counted_.begin() + static_cast<std::ptrdiff_t>(done));
    return released;
  }

  // Gives the buffers back when nothing is queued: an idle connection holds no write memory.
  void trim() {
    if (!idle())
      return;
    std::string{}.swap(in_flight_);
    std::string{}.swap(pending_);
    std::vector<frame_end>{}.swap(counted_);
  }

  bool holds_memory() const { return in_flight_.capacity() + pending_.capacity() > 2 * sso_bytes; }

  // Drops what was not written yet (the socket failed); returns the counted bytes released.
  size_t drop_pending() {
    size_t released = 0;
    auto end = flushed_ + in_flight_.size();
    while (!counted_.empty() && counted_.back().end > end) {
      released += counted_.back().bytes;
      counted_.pop_back();
    }
    pending_.clear();
    return released;
  }

private:
  static inline const size_t sso_bytes = std::string{}.capacity();

  struct frame_end {
    uint64_t end;  // where the frame's bytes end, counted from the connection's first byte
    size_t bytes;  // what it counts against the bound
  };
  std::string pending_;    // appended while a write is on the wire
  std::string in_flight_;  // on the wire
  std::vector<frame_end> counted_;
  uint64_t flushed_ = 0;
  bool writing_ = false;
};

} // namespace parley::net::ws
