// Beast-free views of an HTTP request and response, so that handlers and the router compile
// without Beast (it is expensive to compile; ../shared/TOOLCHAIN.md) and read like the domain.
#pragma once

#include "common/errc.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <map>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace parley::net {

struct http_request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // decoded target without the query
  std::map<std::string, std::string> query;
  // Lower-case names, in arrival order; a vector because requests carry a handful of headers
  // and a map would cost an allocation per node on the hot path.
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  std::string remote_ip;
  std::map<std::string, std::string> params;  // filled by the router from {name} segments
  // For handlers that may answer much later (long polls): starts watching the connection and
  // calls `on_gone` (once, on the session's thread) if the client goes away before the answer.
  // Set by the session; empty in tests that build requests by hand.
  std::function<void(std::function<void()> on_gone)> watch_disconnect;
  // How long the session waits for the handler's answer before it answers 503 itself:
  // server.request_timeout_ms unless a handler that answers later on purpose (a long poll)
  // raises it while it runs.
  std::chrono::milliseconds answer_within{0};

  // The header value or "" when absent; `name` in lower case.
  const std::string& header(const std::string& name) const;
  const std::string& query_param(const std::string& name) const;
  // The `limit` of a listing: absent means `fallback`, any number is clamped to 1..100, anything
  // else is a bad_request naming it.
  fault limit_param(size_t fallback, size_t& out) const;
};

// One Server-Sent Event: `id` is a position in its source (the stream resumes after it).
struct stream_event {
  int64_t id = 0;
  std::string event;  // the event's name
  std::string data;   // one line (JSON)
};

// What an event stream sends: the events after position `after`, oldest first, at most `max`
// (the newest of them when there are more).
using event_source = std::function<std::vector<stream_event>(int64_t after, size_t max)>;

// A response that stays open and carries Server-Sent Events (text/event-stream) instead of a
// body (net/event_stream_session.hpp): the events of `source` after `after`, then each new one.
struct event_stream {
  event_source source;
  int64_t after = 0;
  // How often the source is asked for new events. Default: 1000 ms
  std::chrono::milliseconds interval{1000};
  // Events sent in one write at most (the first one carries the backlog). Default: 1000
  size_t max_batch = 1000;
  // Released when the stream ends (a count of open streams, say).
  std::shared_ptr<void> hold;
};

struct http_response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // Set: the connection is handed to an event stream after the head (status 200); no body.
  std::shared_ptr<event_stream> stream;

  static http_response json(int status, std::string body);
  static http_response error(const fault& f);
  static http_response text(int status, std::string body, std::string content_type);
  static http_response events(event_stream stream);
};

// How a handler answers: exactly once, possibly later and from another thread (after an actor
// replies); the session posts the answer back onto its own strand. A responder is move-only: the
// reply path has one owner at a time, handed along by std::move (a handler that gives it to two
// callbacks, say an ask's reply and error handlers, shares that one owner there and says why:
// net/actor_answers.hpp). The first answer wins and later ones are dropped. If the responder is
// destroyed unanswered (a reply path lost on the way), the client gets 503 `unavailable` with
// Retry-After instead of a connection that hangs; the session also answers 503 once
// server.request_timeout_ms has passed (see watch()).
class responder {
  class state;

public:
  // -- member types --------------------------------------------------------------------------

  // A handle that answers without keeping the exchange alive: the session's timeout holds one,
  // so that dropping the responder is still noticed. Copyable: it owns nothing.
  class weak {
  public:
    bool answer(http_response res) const;
    // True while the responder lives and nobody has answered.
    bool pending() const;

  private:
    friend class responder;
    std::weak_ptr<state> state_;
  };

  // -- constructors --------------------------------------------------------------------------

  responder() = default;

  // Delivers the answer through `deliver` (called at most once; it may itself be move-only).
  template <class F, class = std::enable_if_t<!std::is_same_v<std::decay_t<F>, responder>
                                              && std::is_invocable_v<F&, http_response>>>
  responder(F deliver) : state_(std::make_shared<state_of<F>>(std::move(deliver))) {}

  responder(responder&&) noexcept = default;
  // Assigning over an unanswered responder drops that one: its client gets the 503.
  responder& operator=(responder&&) noexcept = default;
  responder(const responder&) = delete;
  responder& operator=(const responder&) = delete;

  // -- modifiers -----------------------------------------------------------------------------

  // Answers, if nobody has yet.
  void operator()(http_response res) const { answer(std::move(res)); }
  // The same, telling whether this call was the answer (false: someone answered before).
  bool answer(http_response res) const;

  // Gives up answering through this responder without a 503 on destruction: for a caller that
  // answers by other means (an upgrade that was not refused).
  void release() const;

  // -- observers -----------------------------------------------------------------------------

  explicit operator bool() const { return state_ != nullptr; }
  bool answered() const;
  weak watch() const;

private:
  // The exchange: answered or not, and the way out. Shared only with weak handles.
  class state {
  public:
    virtual ~state() = default;
    // Delivers `res` if nobody has answered yet; true if this was the answer.
    bool answer(http_response res);
    std::atomic<bool> done{false};

  protected:
    // The 503 of an exchange dropped unanswered; run by the concrete state's destructor, while
    // deliver() is still there to call.
    void answer_if_dropped();

  private:
    virtual void deliver(http_response res) = 0;
  };

  template <class F>
  class state_of final : public state {
  public:
    explicit state_of(F deliver) : deliver_(std::move(deliver)) {}
    ~state_of() override { answer_if_dropped(); }

  private:
    void deliver(http_response res) override { deliver_(std::move(res)); }
    F deliver_;
  };

  std::shared_ptr<state> state_;
};
using http_handler = std::function<void(http_request&, responder)>;

} // namespace parley::net
