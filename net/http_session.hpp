// One HTTP/1.1 connection: reads requests with a timeout and the body limit, routes them, writes
// the answers in order (keep-alive), and hands authenticated `GET /ws` upgrades to a
// websocket_session. Redirects and rate-limit checks are read by the lean http_reader, every
// other request by Beast's parser.
#pragma once

#include "net/beast.hpp"
#include "net/edge_context.hpp"
#include "net/http_reader.hpp"
#include "net/http_types.hpp"

#include <memory>
#include <optional>

namespace parley::net {

class http_session : public std::enable_shared_from_this<http_session> {
public:
  // -- member types --------------------------------------------------------------------------

  // The connection's strand as the socket's own executor type rather than Asio's type-erased
  // any_io_executor: every handler of every request goes through it, and the erasure's copies
  // and queries were a visible share of a redirect's cost (docs/benchmarks.md, Links).
  using strand = asio::strand<asio::io_context::executor_type>;
  using socket_type = asio::basic_stream_socket<tcp, strand>;
  using timer_type = asio::basic_waitable_timer<std::chrono::steady_clock,
                                                asio::wait_traits<std::chrono::steady_clock>,
                                                strand>;

  // -- constructors --------------------------------------------------------------------------

  // `slot` counts the connection against server.max_connections_per_ip while it is open.
  http_session(socket_type&& socket, edge_context& ctx, connection_limit::ticket slot);

  void run();

private:
  void do_read();
  // Takes the next request from the bytes received, reading more while the lean reader asks.
  void read_request();
  void read_with_beast();
  void on_header(beast::error_code ec, std::size_t n);
  void read_body();
  void on_read(beast::error_code ec, std::size_t n);
  void handle(http::request<http::string_body>&& req);
  void handle(lean_request&& req);
  // A request in its Beast-free form, from either reader: rate limits, then its route.
  void serve(http_request r);
  // A request either reader refused (400, 413): answered, then the connection closes.
  void refuse(const fault& f);
  // An admitted request to its handler, with the answer timer armed.
  void route(http_request r, responder respond);
  void upgrade(http::request<http::string_body>&& req);
  // An upgrade the rate limits admitted: authenticates and hands the socket over.
  void accept_upgrade(http::request<http::string_body> req, http_request r, responder refuse);
  void write(http_response res);
  // An answer that is an event stream: the connection goes to an event_stream_session.
  void hand_to_stream(http_response res);
  // Calls on_gone if the client hangs up before request number `request` (counted by
  // answers_) is answered.
  void watch_disconnect(uint64_t request, std::function<void()> on_gone);
  void on_write(bool close, beast::error_code ec, std::size_t n);
  // Answers 503 for the request of `answer` unless its handler does within `within`.
  void arm_answer_timer(responder::weak answer, std::chrono::milliseconds within);
  void do_close();
  void linger();
  // The I/O deadline (the time to read a request or write an answer, or the keep-alive wait):
  // past it the socket is closed, which ends the pending read or write.
  void expire_after(std::chrono::steady_clock::duration d);
  void on_deadline(beast::error_code ec);
  // Before the socket goes to another session.
  void stop_deadline();

  socket_type socket_;
  beast::flat_buffer buffer_;
  edge_context& ctx_;
  http_reader reader_;
  std::optional<http::request_parser<http::string_body>> parser_;  // requests not read lean
  std::string remote_ip_;
  bool keep_alive_ = false;
  bool head_ = false;
  bool first_request_ = true;
  bool http10_ = false;
  std::string out_;  // the response being written
  connection_limit::ticket slot_;
  timer_type answer_timer_;  // server.request_timeout_ms for the request in flight
  // One wait for the I/O deadline, re-armed only when it fires before deadline_ or a sooner
  // deadline comes: Beast's tcp_stream armed and cancelled a timer around every read and write.
  timer_type deadline_timer_;
  std::chrono::steady_clock::time_point deadline_;
  bool deadline_armed_ = false;
  bool handling_ = false;  // a request read and not yet answered (no I/O deadline meanwhile)
  uint64_t answers_ = 0;   // answers written: the number of the request being handled
};

// Parses "a=1&b=x%20y" into decoded pairs; exposed for tests.
std::map<std::string, std::string> parse_query(std::string_view query);
// Percent-decoding; `plus_is_space` for query strings (form encoding), not for paths.
std::string url_decode(std::string_view in, bool plus_is_space);

} // namespace parley::net
