#include "cluster/link/message_bytes.hpp"

#include "actors/runtime/errors.hpp"

#include <caf/actor_system.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include <vector>

namespace parley::cluster {

namespace {

// By value: CAF's serializer takes its input as mutable (messages and errors copy cheaply).
template <class T>
caf::expected<std::string> to_bytes(caf::actor_system& sys, T x) {
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  if (auto err = sink(x))
    return err;
  return std::string{buf.begin(), buf.end()};
}

template <class T>
caf::error from_bytes(caf::actor_system& sys, const std::string& bytes, T& x) {
  caf::binary_deserializer source{sys, bytes.data(), bytes.size()};
  if (auto err = source(x))
    return err;
  if (source.remaining() != 0)
    return make_error(errc::internal, std::to_string(source.remaining())
                                        + " bytes left over after a peer's payload");
  return {};
}

} // namespace

caf::expected<std::string> message_to_bytes(caf::actor_system& sys, const caf::message& msg) {
  return to_bytes(sys, msg);
}

caf::expected<caf::message> message_from_bytes(caf::actor_system& sys, const std::string& bytes) {
  caf::message msg;
  if (auto err = from_bytes(sys, bytes, msg))
    return err;
  return msg;
}

std::string error_to_bytes(caf::actor_system& sys, const caf::error& err) {
  if (auto bytes = to_bytes(sys, err))
    return std::move(*bytes);
  auto plain = make_error(errc::internal, "an error that could not be sent: " + sys.render(err));
  auto bytes = to_bytes(sys, plain);
  return bytes ? std::move(*bytes) : std::string{};
}

caf::error error_from_bytes(caf::actor_system& sys, const std::string& bytes) {
  caf::error err;
  if (auto bad = from_bytes(sys, bytes, err))
    return make_error(errc::internal, "a peer's error did not read back: " + sys.render(bad));
  if (!err)
    return make_error(errc::internal, "a peer answered a failure without an error");
  return err;
}

} // namespace parley::cluster
