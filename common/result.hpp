// A value or the fault that prevented it: what data-path reads return instead of filling a
// `fault&` out-parameter, so that an error cannot be dropped without the compiler saying so.
// storage/ has no CAF; actors convert a fault into a caf::error once, at their edge.
#pragma once

#include "common/errc.hpp"

#include <type_traits>
#include <utility>
#include <variant>

namespace parley {

template <class T>
class [[nodiscard]] result {
public:
  static_assert(!std::is_same_v<T, fault>, "result<fault> says nothing a fault does not");

  // -- constructors ----------------------------------------------------------------------------

  // By const& and && (not by value), so that `return local;` moves the local.
  result(const T& value) : v_(std::in_place_index<0>, value) {}
  result(T&& value) : v_(std::in_place_index<0>, std::move(value)) {}

  // `f` must be a fault (code != none): a result holds a value or an error, never neither.
  result(const fault& f) : v_(std::in_place_index<1>, f) { check_fault(); }
  result(fault&& f) : v_(std::in_place_index<1>, std::move(f)) { check_fault(); }

  // -- observers -------------------------------------------------------------------------------

  bool has_value() const { return v_.index() == 0; }
  explicit operator bool() const { return has_value(); }

  // The value; only when has_value().
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T&& operator*() && { return std::move(*this).value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  // The fault; only when !has_value().
  const fault& error() const { return std::get<1>(v_); }
  fault take_error() && { return std::get<1>(std::move(v_)); }

private:
  void check_fault() {
    if (!std::get<1>(v_))
      std::get<1>(v_) = make_fault(errc::internal, "result built from an empty fault");
  }

  std::variant<T, fault> v_;
};

// Drops a fault on purpose: `why` says why losing it is fine where this is called, for the
// reader (it is not logged).
inline void ignore(const fault&, const char* why) {
  (void)why;
}

} // namespace parley
