// Checks that what a service's interface carries can cross nodes: every request and reply type
// of a typed actor interface goes through CAF's binary serializer inside a caf::message (as the
// middleman sends it) and comes back equal. A local-only type on an interface fails to compile.
#pragma once

#include "actors/runtime/protobuf_inspect.hpp"

#include <caf/all.hpp>

#include <catch2/catch.hpp>

#include <string>
#include <vector>

namespace parley::test {

// `value` wrapped in a message, serialized and read back; the copy it read.
template <class T>
T message_round_trip(caf::actor_system& sys, const T& value) {
  static_assert(!caf::allowed_unsafe_message_type<T>::value,
                "a local-only type (actors/runtime/local_only_types.hpp) cannot cross nodes");
  auto msg = caf::make_message(value);
  std::vector<char> buf;
  caf::binary_serializer sink{sys, buf};
  auto err = sink(msg);
  INFO("serializing " << caf::deep_to_string(value) << ": " << sys.render(err));
  REQUIRE_FALSE(err);
  caf::message back;
  caf::binary_deserializer source{sys, buf};
  err = source(back);
  INFO("deserializing: " << sys.render(err));
  REQUIRE_FALSE(err);
  REQUIRE(back.size() == 1);
  REQUIRE(back.match_element<T>(0));
  return back.get_as<T>(0);
}

// Round-trips `value` and checks the copy prints the same (protobuf messages print every field).
template <class T>
void check_round_trip(caf::actor_system& sys, const T& value) {
  auto back = message_round_trip(sys, value);
  CHECK(caf::deep_to_string(back) == caf::deep_to_string(value));
}

namespace detail {

template <class T>
void check_default(caf::actor_system& sys) {
  if constexpr (!std::is_void_v<T>)
    check_round_trip(sys, T{});
}

template <class... Is, class... Os>
void check_signature(caf::actor_system& sys,
                     caf::typed_mpi<caf::detail::type_list<Is...>, caf::output_tuple<Os...>>*) {
  (check_default<Is>(sys), ...);
  (check_default<Os>(sys), ...);
}

template <class... Sigs>
void check_signatures(caf::actor_system& sys, caf::detail::type_list<Sigs...>*) {
  (check_signature(sys, static_cast<Sigs*>(nullptr)), ...);
}

} // namespace detail

// Every type in every signature of the typed actor interface `Api`.
template <class Api>
void check_interface(caf::actor_system& sys) {
  detail::check_signatures(sys, static_cast<typename Api::signatures*>(nullptr));
}

} // namespace parley::test
