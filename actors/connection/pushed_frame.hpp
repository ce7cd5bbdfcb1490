// A frame the server pushes to many connections (a chat message to every device of a group):
// built once, encoded at most once per wire format by the first connection that needs that
// format, and the same bytes queued on every socket. Immutable once built; safe to share across
// threads.
#pragma once

#include "actors/connection/outbound_sink.hpp"
#include "proto/parley.pb.h"

#include <functional>
#include <memory>
#include <mutex>
#include <string>

namespace parley {

class pushed_frame {
public:
  using encoder = std::string (*)(const pb::ServerFrame&, wire_format);

  explicit pushed_frame(pb::ServerFrame frame) : frame_(std::move(frame)) {}

  const pb::ServerFrame& frame() const { return frame_; }

  // The frame's bytes in `format`, encoded by `encode` on first use.
  const std::shared_ptr<const std::string>& encoded(wire_format format, encoder encode) const {
    auto i = static_cast<size_t>(format);
    std::call_once(once_[i], [&] {
      bytes_[i] = std::make_shared<const std::string>(encode(frame_, format));
    });
    return bytes_[i];
  }

private:
  pb::ServerFrame frame_;
  mutable std::once_flag once_[2];
  mutable std::shared_ptr<const std::string> bytes_[2];
};

using pushed_frame_ptr = std::shared_ptr<const pushed_frame>;

} // namespace parley
