// Protobuf messages as CAF message types. Requests and replies that may cross nodes are
// protobuf messages (proto/*.proto): this lets CAF serialize them with their own wire encoding
// (binary serializer, the middleman's BASP), print them in logs, and keeps one schema for what
// travels. Found by argument-dependent lookup for every type generated into namespace parley::pb.
#pragma once

#include <caf/deserializer.hpp>
#include <caf/error.hpp>
#include <caf/sec.hpp>
#include <caf/serializer.hpp>

#include <google/protobuf/message.h>

#include <string>
#include <type_traits>

namespace parley::pb {

template <class Inspector, class T>
std::enable_if_t<std::is_base_of_v<google::protobuf::Message, T>, typename Inspector::result_type>
inspect(Inspector& f, T& x) {
  if constexpr (Inspector::writes_state) {
    // Deserializing: the bytes, then the message; a message that does not parse is an error,
    // never an empty message.
    std::string bytes;
    if (auto err = f(bytes))
      return err;
    if (!x.ParseFromString(bytes))
      return caf::make_error(caf::sec::invalid_argument, T::descriptor()->full_name());
    return caf::error{};
  } else if constexpr (std::is_void_v<typename Inspector::result_type>) {
    // to_string (logs, test failures): the readable text form.
    f(x.ShortDebugString());
  } else {
    std::string bytes;
    if (!x.SerializeToString(&bytes))
      return caf::make_error(caf::sec::invalid_argument, T::descriptor()->full_name());
    return f(bytes);
  }
}

} // namespace parley::pb
