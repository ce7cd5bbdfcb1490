#include "net/ws_frame.hpp"

#include "common/utf8.hpp"
#include "net/ws_deflate.hpp"

#include <algorithm>
#include <cstring>

namespace parley::net::ws {

namespace {

constexpr size_t max_control_payload = 125;

bool is_control(opcode op) { return static_cast<uint8_t>(op) >= 8; }

struct frame_header {
  bool fin = false;
  uint8_t rsv = 0;  // the three reserved bits, in place (0x70)
  uint8_t op = 0;
  bool masked = false;
  bool shortest = true;  // the length in its shortest form, and below 2^63
  uint64_t length = 0;
  uint8_t mask[4] = {};
};

// The header's size once its first two bytes are known.
size_t header_size(uint8_t second) {
  size_t size = 2;
  auto len7 = second & 0x7f;
  if (len7 == 126)
    size += 2;
  else if (len7 == 127)
    size += 8;
  if (second & 0x80)
    size += 4;
  return size;
}

frame_header parse_header(const uint8_t* h) {
  frame_header f;
  f.fin = (h[0] & 0x80) != 0;
  f.rsv = h[0] & 0x70;
  f.op = h[0] & 0x0f;
  f.masked = (h[1] & 0x80) != 0;
  auto len7 = h[1] & 0x7f;
  size_t at = 2;
  if (len7 < 126) {
    f.length = len7;
  } else if (len7 == 126) {
    f.length = (uint64_t{h[2]} << 8) | h[3];
    f.shortest = f.length >= 126;
    at = 4;
  } else {
    for (int i = 0; i < 8; ++i)
      f.length = (f.length << 8) | h[2 + i];
    f.shortest = f.length > 0xffff && (f.length >> 63) == 0;
    at = 10;
  }
  if (f.masked)
    std::memcpy(f.mask, h + at, 4);
  return f;
}

// Codes a close frame may carry (RFC 6455 7.4; 1012-1014 registered since).
bool valid_close_code(uint16_t code) {
  if (code >= 3000 && code <= 4999)
    return true;
  return code >= 1000 && code <= 1014 && code != 1004 && code != 1005 && code != 1006;
}

} // namespace

// -- writing -----------------------------------------------------------------------------------

size_t append_frame(std::string& out, opcode op, std::string_view payload, bool compressed) {
  char header[10];
  size_t n = 2;
  header[0] = static_cast<char>(0x80 | (compressed ? 0x40 : 0) | static_cast<uint8_t>(op));
  auto size = static_cast<uint64_t>(payload.size());
  if (size < 126) {
    header[1] = static_cast<char>(size);
  } else if (size <= 0xffff) {
    header[1] = 126;
    header[2] = static_cast<char>(size >> 8);
    header[3] = static_cast<char>(size);
    n = 4;
  } else {
    header[1] = 127;
    for (int i = 0; i < 8; ++i)
      header[2 + i] = static_cast<char>(size >> (56 - 8 * i));
    n = 10;
  }
  out.append(header, n);
  out.append(payload);
  return n + payload.size();
}

std::string close_payload(uint16_t code, std::string_view reason) {
  std::string out;
  out.push_back(static_cast<char>(code >> 8));
  out.push_back(static_cast<char>(code & 0xff));
  auto room = max_control_payload - 2;
  if (reason.size() > room) {
    reason = reason.substr(0, room);
    // Never end inside a character: drop continuation bytes and the lead byte they follow.
    while (!reason.empty() && (static_cast<uint8_t>(reason.back()) & 0xc0) == 0x80)
      reason.remove_suffix(1);
    if (!reason.empty() && (static_cast<uint8_t>(reason.back()) & 0x80))
      reason.remove_suffix(1);
  }
  out.append(reason);
  return out;
}

// -- reading -----------------------------------------------------------------------------------

namespace {

// XORs the client's mask over `n` bytes starting at mask position `at`; returns the next one.
uint8_t unmask(char* p, size_t n, const uint8_t mask[4], uint8_t at) {
  size_t i = 0;
  if (n >= 16) {
    uint8_t rotated[8];
    for (int k = 0; k < 8; ++k)
      rotated[k] = mask[(at + k) & 3];
    uint64_t m;
    std::memcpy(&m, rotated, 8);
    for (; i + 8 <= n; i += 8) {
      uint64_t word;
      std::memcpy(&word, p + i, 8);
      word ^= m;
      std::memcpy(p + i, &word, 8);
    }
  }
  for (; i < n; ++i)
    p[i] = static_cast<char>(p[i] ^ mask[(at + i) & 3]);
  return static_cast<uint8_t>((at + n) & 3);
}

} // namespace

void frame_reader::feed(char* p, size_t n, reader_events& events) {
  while (n > 0 && !done_) {
    if (!in_payload_) {
      if (!take_header(p, n, events))
        return;
      if (!in_payload_)
        end_frame(events);  // an empty payload
      continue;
    }
    auto take = static_cast<size_t>(std::min<uint64_t>(left_, n));
    mask_at_ = unmask(p, take, mask_, mask_at_);
    if (is_control(frame_op_)) {
      control_.append(p, take);
    } else if (skip_message_ || skip_all_) {
      // read and dropped
    } else if (take == left_ && fin_ && frame_op_ != opcode::continuation && !compressed_
               && message_.empty()) {
      // The common case: a whole small message within what was read; no copy.
      left_ = 0;
      in_payload_ = false;
      message_op_ = opcode::continuation;
      deliver(std::string_view{p, take}, frame_op_ == opcode::text, events);
      p += take;
      n -= take;
      continue;
    } else {
      message_.append(p, take);
    }
    p += take;
    n -= take;
    left_ -= take;
    if (left_ == 0) {
      in_payload_ = false;
      end_frame(events);
    }
  }
}

bool frame_reader::take_header(char*& p, size_t& n, reader_events& events) {
  auto* bytes = reinterpret_cast<const uint8_t*>(p);
  const uint8_t* h = nullptr;
  if (header_len_ == 0 && n >= 2 && n >= header_size(bytes[1])) {
    h = bytes;  // the whole header within what was read
    auto size = header_size(bytes[1]);
    p += size;
    n -= size;
  } else {
    // Split across reads: gather it in header_.
    while (n > 0 && (header_len_ < 2 || header_len_ < header_size(header_[1]))) {
      header_[header_len_++] = static_cast<uint8_t>(*p++);
      --n;
    }
    if (header_len_ < 2 || header_len_ < header_size(header_[1]))
      return false;
    header_len_ = 0;
    h = header_;
  }
  auto f = parse_header(h);
  if (f.rsv & 0x30)
    return fail(events, close_code::protocol_error, "reserved bits RSV2/RSV3 set");
  bool rsv1 = (f.rsv & 0x40) != 0;
  if (!f.masked)
    return fail(events, close_code::protocol_error, "client frames must be masked");
  if (!f.shortest)
    return fail(events, close_code::protocol_error, "frame length not in its shortest form");
  auto op = static_cast<opcode>(f.op);
  switch (op) {
    case opcode::close:
    case opcode::ping:
    case opcode::pong:
      if (!f.fin)
        return fail(events, close_code::protocol_error, "fragmented control frame");
      if (f.length > max_control_payload)
        return fail(events, close_code::protocol_error, "control frame longer than 125 bytes");
      if (rsv1)
        return fail(events, close_code::protocol_error, "RSV1 set on a control frame");
      break;
    case opcode::continuation:
      if (message_op_ == opcode::continuation)
        return fail(events, close_code::protocol_error, "continuation frame without a message");
      if (rsv1)
        return fail(events, close_code::protocol_error, "RSV1 set on a continuation frame");
      break;
    case opcode::text:
    case opcode::binary:
      if (message_op_ != opcode::continuation)
        return fail(events, close_code::protocol_error, "new message inside a fragmented one");
      if (rsv1 && !deflate_)
        return fail(events, close_code::protocol_error, "RSV1 set without permessage-deflate");
      message_op_ = op;
      compressed_ = rsv1;
      skip_message_ = false;
      break;
    default:
      return fail(events, close_code::protocol_error,
                  "unknown opcode " + std::to_string(static_cast<int>(f.op)));
  }
  frame_op_ = op;
  fin_ = f.fin;
  left_ = f.length;
  std::memcpy(mask_, f.mask, 4);
  mask_at_ = 0;
  in_payload_ = f.length > 0;
  if (!is_control(op) && !skip_message_ && !skip_all_
      && f.length > max_message_ - std::min(max_message_, message_.size())) {
    // Read on and dropped, so that the client's close frame is still seen.
    skip_message_ = true;
    drop_message();
    events.on_failure(close_code::too_big,
                      "message larger than " + std::to_string(max_message_) + " bytes");
  }
  return true;
}

void frame_reader::end_frame(reader_events& events) {
  switch (frame_op_) {
    case opcode::close: {
      done_ = true;  // nothing after a close frame counts
      std::string payload = std::move(control_);
      control_ = {};
      if (payload.size() == 1) {
        events.on_failure(close_code::protocol_error, "close frame with a one-byte payload");
        return;
      }
      uint16_t code = close_code::none;
      if (payload.size() >= 2) {
        code = static_cast<uint16_t>((static_cast<uint8_t>(payload[0]) << 8)
                                     | static_cast<uint8_t>(payload[1]));
        if (!valid_close_code(code)) {
          events.on_failure(close_code::protocol_error, "invalid close code");
          return;
        }
      }
      auto reason = std::string_view{payload}.substr(std::min<size_t>(2, payload.size()));
      if (!is_valid_utf8(reason)) {
        events.on_failure(close_code::bad_payload, "close reason is not valid UTF-8");
        return;
      }
      events.on_close(code, reason);
      return;
    }
    case opcode::ping: {
      std::string payload = std::move(control_);
      control_ = {};
      events.on_ping(payload);
      return;
    }
    case opcode::pong:
      control_ = {};
      return;
    default:
      if (fin_)
        end_message(events);
  }
}

void frame_reader::end_message(reader_events& events) {
  bool text = message_op_ == opcode::text;
  message_op_ = opcode::continuation;
  if (skip_message_ || skip_all_) {
    skip_message_ = false;
    drop_message();
    return;
  }
  if (!compressed_) {
    deliver(message_, text, events);
    drop_message();
    return;
  }
  std::string inflated;
  auto status = deflate_->decompress(message_, max_message_, inflated);
  drop_message();
  if (status == deflate_codec::inflate_status::too_big)
    return events.on_failure(close_code::too_big,
                             "message larger than " + std::to_string(max_message_) + " bytes");
  if (status == deflate_codec::inflate_status::corrupt) {
    fail(events, close_code::bad_payload, "compressed message cannot be inflated");
    return;
  }
  deliver(inflated, text, events);
}

void frame_reader::deliver(std::string_view payload, bool text, reader_events& events) {
  if (text && !is_valid_utf8(payload))
    return events.on_failure(close_code::bad_payload, "text message is not valid UTF-8");
  events.on_message(payload, text);
}

bool frame_reader::fail(reader_events& events, uint16_t code, std::string reason) {
  done_ = true;
  drop_message();
  events.on_failure(code, std::move(reason));
  return false;
}

void frame_reader::drop_message() {
  std::string{}.swap(message_);  // an idle connection holds no message buffer
}

} // namespace parley::net::ws
