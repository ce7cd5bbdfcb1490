// The WebSocket outbox: frames appended during a write go out together in the next one, and
// count against the outbound bound until their bytes are written.
#include "net/ws_frame.hpp"
#include "net/ws_outbox.hpp"

#include <catch2/catch.hpp>

using namespace parley::net::ws;

namespace {

void add(outbox& box, std::string_view payload) {
  append_frame(box.pending(), opcode::text, payload);
  box.counted(payload.size());
}

} // namespace

TEST_CASE("frames queued during a write go out together, and count until written") {
  outbox box;
  CHECK(box.idle());
  add(box, "first");
  REQUIRE_FALSE(box.writing());
  auto first = box.start_write();
  CHECK(first.size() == 2 + 5);
  add(box, "second");
  add(box, "third");
  CHECK(box.writing());
  CHECK(box.written() == 5);  // the first frame is out; the other two wait
  CHECK_FALSE(box.idle());
  auto batch = box.start_write();
  CHECK(batch.size() == 2 + 6 + 2 + 5);
  CHECK(batch.substr(2, 6) == "second");
  CHECK(batch.substr(10) == "third");
  CHECK(box.written() == 11);
  CHECK(box.idle());
  add(box, std::string(100, 'x'));
  box.start_write();
  CHECK(box.written() == 100);
  CHECK(box.holds_memory());  // kept for the next batch of a busy connection
  box.trim();
  CHECK_FALSE(box.holds_memory());  // nothing held once idle and trimmed
  CHECK(box.pending().capacity() <= std::string{}.capacity());
}

TEST_CASE("trimming waits until nothing is queued") {
  outbox box;
  add(box, std::string(100, 'x'));
  box.start_write();
  box.trim();
  CHECK(box.writing());
  CHECK(box.holds_memory());
  box.written();
  box.trim();
  CHECK_FALSE(box.holds_memory());
}

TEST_CASE("after a failed write what was pending is dropped and released") {
  outbox box;
  add(box, "on the wire");
  box.start_write();
  add(box, "never sent");
  box.pending() += std::string{"\x8a\x00", 2};  // a pong: counts nothing
  box.counted(0);
  CHECK(box.drop_pending() == 10);
  CHECK(box.written() == 11);
  CHECK(box.idle());
}
