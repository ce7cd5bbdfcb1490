#include "actors/connection/outbound_sink.hpp"

#include "actors/connection/pushed_frame.hpp"

namespace parley {

void outbound_sink::send_shared(const std::shared_ptr<const pushed_frame>& frame,
                                wire_format format) {
  send(frame->frame(), format);
}

} // namespace parley
