// One call to etcd's JSON gateway: a request message posted as JSON to the first endpoint that
// answers within the call's deadline, its answer parsed back into a message. The one place where
// transport failures, HTTP statuses and the gateway's gRPC codes become faults. Used by
// etcd_client only; not thread-safe (one per thread, like the HTTP client under it).
#pragma once

#include "cluster/etcd_options.hpp"
#include "common/result.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace google::protobuf {
class Message;
} // namespace google::protobuf

namespace parley::net::client {
class http_client;
} // namespace parley::net::client

namespace parley::cluster {

// Whether a request that may have reached one endpoint can be sent again to another. A
// compare-and-set cannot: had the first one applied it, the second would report it lost.
enum class resend : uint8_t { safe, unsafe };

// How a stream ended when it ended without a fault.
enum class stream_end : uint8_t {
  stopped,   // the line handler returned false, or the abort flag was set
  deadline,  // its duration passed while it was streaming
  closed,    // the server ended it
};

// Given each line of a streamed answer (without its '\n'); returns false to stop reading.
using line_handler = std::function<bool(std::string_view line)>;

class etcd_gateway {
public:
  // -- constructors --

  // Endpoints that are not http URLs make every call fail with bad_request naming them.
  explicit etcd_gateway(etcd_options opts);
  ~etcd_gateway();
  etcd_gateway(const etcd_gateway&) = delete;
  etcd_gateway& operator=(const etcd_gateway&) = delete;

  // -- modifiers --

  // Posts `request` to `path` ("/v3/kv/range") and parses a 2xx answer into `response`.
  fault call(std::string_view path, const google::protobuf::Message& request,
             google::protobuf::Message& response, resend policy);

  // Posts `request` to `path` and hands each line of a 2xx streamed answer to `on_line` until it
  // returns false, `duration` passes, the server ends the stream or the abort flag is set. Fails
  // over to the next endpoint only until a stream has begun.
  result<stream_end> stream(std::string_view path, const google::protobuf::Message& request,
                            const line_handler& on_line, std::chrono::milliseconds duration);

  // While `flag` (may be null; must outlive its use) is true, a call in flight ends within
  // about 50 ms (a stream as stopped, any other call with an unavailable fault "aborted").
  void set_abort_flag(const std::atomic<bool>* flag);

private:
  struct endpoint;

  // The next call starts with the next endpoint.
  void move_on();
  void count(bool failed);

  etcd_options opts_;
  fault config_error_;
  std::vector<std::unique_ptr<endpoint>> endpoints_;
  size_t current_ = 0;
  const std::atomic<bool>* abort_ = nullptr;
};

// The project's code for a gRPC status code in a gateway error ("code", "grpc_code").
errc from_grpc_code(int code);

// Parses gateway JSON into `out` (fields it does not know are ignored); an internal fault
// quoting the start of `json` when it is not such a message. `what` names it in the fault.
fault parse_gateway_json(std::string_view json, google::protobuf::Message& out,
                         std::string_view what);

} // namespace parley::cluster
