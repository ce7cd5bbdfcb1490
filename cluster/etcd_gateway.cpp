#include "cluster/etcd_gateway.hpp"

#include "net/client/http_client.hpp"
#include "proto/etcd_gateway.pb.h"

#include <google/protobuf/util/json_util.h>

#include <utility>

namespace parley::cluster {

namespace {

namespace http = parley::net::client;
using google::protobuf::Message;
using std::chrono::milliseconds;
using steady = std::chrono::steady_clock;

// A streamed line longer than this without its end is no gateway answer. 16 MiB
constexpr size_t max_line_bytes = size_t{16} << 20;

// The POST of `m` as JSON to `path`, or why no call can be made.
result<http::http_request> gateway_request(const fault& config_error, std::string_view path,
                                           const Message& m) {
  if (config_error)
    return config_error;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  std::string body;
  auto st = google::protobuf::util::MessageToJsonString(m, &body, opts);
  if (!st.ok())
    return make_fault(errc::internal, "etcd request not encodable: " + st.ToString());
  return http::http_request{"POST", std::string{path}, std::move(body), {}};
}

bool starts_with(std::string_view text, std::string_view prefix) {
  return text.substr(0, prefix.size()) == prefix;
}

// What one endpoint's answer means for the call.
struct verdict {
  fault error;            // none: the answer is in the body
  bool try_next = false;  // another endpoint may serve the call
};

// `where` names the endpoint and path in the fault.
verdict judge(const std::string& where, const http::http_response& r, resend policy) {
  if (r.error == "aborted")
    return {make_fault(errc::unavailable, where + ": aborted"), false};
  if (!r.ok()) {
    // A request that never left (no connection) may go anywhere; one that may have been read
    // goes elsewhere only when applying it twice does no harm.
    bool unsent = starts_with(r.error, "connect") || starts_with(r.error, "resolve");
    bool next = unsent || policy == resend::safe;
    auto text = where + ": " + r.error + (next ? "" : " (it may have been applied)");
    return {make_fault(errc::unavailable, std::move(text)), next};
  }
  if (r.success())
    return {};
  pb::etcd::GatewayError e;
  if (!parse_gateway_json(r.body, e, where) && e.code() != 0) {
    auto code = from_grpc_code(e.code());
    bool next = code == errc::unavailable && policy == resend::safe;
    return {make_fault(code, where + ": " + (e.message().empty() ? e.error() : e.message())), next};
  }
  // Not the gateway's own error: something in front of it, or a server in trouble.
  bool server_trouble = r.status >= 500;
  auto code = server_trouble ? errc::unavailable : errc::internal;
  return {make_fault(code, where + ": " + r.describe()), server_trouble && policy == resend::safe};
}

} // namespace

// -- endpoints ----------------------------------------------------------------------------------

struct etcd_gateway::endpoint {
  std::string url;  // as configured, for faults
  std::unique_ptr<http::http_client> client;
};

etcd_gateway::etcd_gateway(etcd_options opts) : opts_(std::move(opts)) {
  if (auto why = check_etcd_endpoints(opts_.endpoints); !why.empty()) {
    config_error_ = make_fault(errc::bad_request, std::move(why));
    return;
  }
  http::http_client_options client_opts;
  client_opts.connect_timeout = opts_.connect_timeout;
  client_opts.request_timeout = opts_.call_timeout;
  client_opts.user_agent = "parley-cluster";
  for (auto& text : opts_.endpoints) {
    http::http_url url;
    std::string ignored;
    http::parse_http_url(text, url, ignored);
    auto ep = std::make_unique<endpoint>();
    ep->url = text;
    ep->client = std::make_unique<http::http_client>(std::move(url), client_opts);
    endpoints_.push_back(std::move(ep));
  }
}

etcd_gateway::~etcd_gateway() = default;

void etcd_gateway::move_on() {
  current_ = (current_ + 1) % endpoints_.size();
}

void etcd_gateway::count(bool failed) {
  if (!opts_.counters)
    return;
  opts_.counters->round_trips.fetch_add(1, std::memory_order_relaxed);
  if (failed)
    opts_.counters->failures.fetch_add(1, std::memory_order_relaxed);
}

void etcd_gateway::set_abort_flag(const std::atomic<bool>* flag) {
  abort_ = flag;
  for (auto& ep : endpoints_)
    ep->client->set_abort_flag(flag);
}

// -- calls --------------------------------------------------------------------------------------

namespace {

// Runs `attempt(endpoint index, time left)` on one endpoint after another, from `current`, until
// one gives an answer or a fault that another endpoint cannot mend, or `budget` has passed.
// `current` is left at the endpoint that answered last.
template <class Attempt>
fault in_turn(size_t endpoints, size_t& current, milliseconds budget, std::string_view path,
              Attempt&& attempt) {
  auto deadline = steady::now() + budget;
  std::string failures;
  for (size_t tried = 0; tried < endpoints; ++tried) {
    auto left = std::chrono::duration_cast<milliseconds>(deadline - steady::now());
    if (left.count() <= 0)
      break;
    verdict v = attempt(current, left);
    if (!v.try_next)
      return std::move(v.error);
    failures += (failures.empty() ? "" : "; ") + v.error.message;
    current = (current + 1) % endpoints;
  }
  return make_fault(errc::unavailable,
                    "etcd " + std::string{path} + ": no endpoint answered within "
                      + std::to_string(budget.count()) + " ms ("
                      + (failures.empty() ? "no time left" : failures) + ")");
}

} // namespace

fault etcd_gateway::call(std::string_view path, const Message& request, Message& response,
                         resend policy) {
  auto req = gateway_request(config_error_, path, request);
  if (!req)
    return req.error();
  return in_turn(endpoints_.size(), current_, opts_.call_timeout, path,
                 [&](size_t i, milliseconds left) -> verdict {
    auto& ep = *endpoints_[i];
    auto where = ep.url + req->target;
    auto res = ep.client->request(*req, left);
    auto v = judge(where, res, policy);
    if (!v.error)
      v.error = parse_gateway_json(res.body, response, where);
    count(static_cast<bool>(v.error));
    return v;
  });
}

result<stream_end> etcd_gateway::stream(std::string_view path, const Message& request,
                                        const line_handler& on_line, milliseconds duration) {
  auto req = gateway_request(config_error_, path, request);
  if (!req)
    return req.error();
  auto end = stream_end::closed;
  bool broke = false;
  auto f = in_turn(endpoints_.size(), current_, duration, path,
                   [&](size_t i, milliseconds left) -> verdict {
    auto& ep = *endpoints_[i];
    auto where = ep.url + req->target;
    // Pieces split lines anywhere: the end of one waits here for the rest.
    std::string pending;
    bool stopped = false;
    bool overflow = false;
    auto res = ep.client->stream(*req, [&](std::string_view piece) {
      pending.append(piece);
      size_t start = 0;
      for (auto nl = pending.find('\n'); nl != std::string::npos && !stopped;
           nl = pending.find('\n', start)) {
        auto line = std::string_view{pending}.substr(start, nl - start);
        start = nl + 1;
        stopped = !line.empty() && !on_line(line);
      }
      pending.erase(0, start);
      overflow = pending.size() > max_line_bytes;
      return !stopped && !overflow;
    }, left);
    // Until a stream has begun, nothing was served: another endpoint may take it.
    if (res.status < 200 || res.status >= 300) {
      count(true);
      return judge(where, res, resend::safe);
    }
    verdict v;
    if (overflow) {
      v.error = make_fault(errc::internal, where + ": a streamed line longer than 16 MiB");
    } else if (stopped || res.error == "aborted") {
      end = stream_end::stopped;
    } else if (res.timed_out) {
      end = stream_end::deadline;
    } else if (!res.ok()) {
      v.error = make_fault(errc::unavailable, where + ": " + res.error);
      broke = true;
    } else if (!pending.empty() && !on_line(pending)) {
      end = stream_end::stopped;
    }
    count(static_cast<bool>(v.error));
    return v;
  });
  // A stream that broke may be a member going away: the next one starts elsewhere.
  if (broke)
    move_on();
  if (f)
    return f;
  return end;
}

// -- errors and JSON ---------------------------------------------------------------------------

errc from_grpc_code(int code) {
  switch (code) {
    case 3:   // invalid argument
    case 11:  // out of range: a revision the store does not have yet
      return errc::bad_request;
    case 5:
      return errc::not_found;
    case 6:   // already exists
    case 9:   // failed precondition
    case 10:  // aborted
      return errc::conflict;
    case 7:
      return errc::forbidden;
    case 16:
      return errc::unauthorized;
    case 1:   // canceled
    case 4:   // deadline exceeded
    case 8:   // resource exhausted
    case 14:  // unavailable: no leader, a timed-out proposal, a member stopping
      return errc::unavailable;
    default:
      return errc::internal;
  }
}

fault parse_gateway_json(std::string_view json, Message& out, std::string_view what) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  auto st = google::protobuf::util::JsonStringToMessage(
    google::protobuf::StringPiece{json.data(), json.size()}, &out, opts);
  if (st.ok())
    return {};
  constexpr size_t shown = 200;
  auto quoted = std::string{json.substr(0, shown)} + (json.size() > shown ? "..." : "");
  return make_fault(errc::internal, std::string{what} + ": malformed answer (" + st.ToString()
                                      + "): " + quoted);
}

std::string check_etcd_endpoints(const std::vector<std::string>& endpoints) {
  if (endpoints.empty())
    return "no etcd endpoint given";
  for (auto& text : endpoints) {
    http::http_url url;
    std::string error;
    if (!http::parse_http_url(text, url, error))
      return "etcd endpoint \"" + text + "\": " + error;
  }
  return {};
}

} // namespace parley::cluster
