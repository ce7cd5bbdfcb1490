#include "net/http_types.hpp"

#include "common/metrics.hpp"

namespace parley::net {

namespace {

metrics::counter& dropped_answers() {
  static auto& c = metrics::global().get_counter(
    "http_unanswered_total", "REST requests whose handler dropped the reply path (answered 503)");
  return c;
}

} // namespace

void responder::state::answer_if_dropped() {
  // Nobody answered and nobody can any more: a bug on the reply path, never a hang for the client.
  if (done.load())
    return;
  dropped_answers().inc();
  auto res = http_response::error(
    make_fault(errc::unavailable, "the request was dropped before it was answered"));
  answer(std::move(res));
}

bool responder::state::answer(http_response res) {
  if (done.exchange(true))
    return false;
  deliver(std::move(res));
  return true;
}

bool responder::answer(http_response res) const {
  return state_ && state_->answer(std::move(res));
}

void responder::release() const {
  if (state_)
    state_->done.store(true);
}

bool responder::answered() const {
  return state_ && state_->done.load();
}

responder::weak responder::watch() const {
  weak w;
  w.state_ = state_;
  return w;
}

bool responder::weak::pending() const {
  auto s = state_.lock();
  return s && !s->done.load();
}

bool responder::weak::answer(http_response res) const {
  auto s = state_.lock();
  return s && s->answer(std::move(res));
}

} // namespace parley::net
