// The task scheduler through real HTTP on a real node: every task and lease endpoint of
// PROTOCOL.md, the state machine's transitions and conflicts, retries, dead letters, lease
// expiry, long polling, the built-in executors, and the bad inputs around them; ownership
// (others get 404), roles, reserved types, the http task's destination rules and the limits.
#include "support/eventually.hpp"
#include "support/running_node.hpp"

#include "common/clock.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <fstream>
#include <future>
#include <mutex>
#include <set>
#include <thread>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace parley;
using namespace parley::test;
using namespace std::chrono_literals;
using google::protobuf::util::TimeUtil;

namespace {

std::string rfc3339(int64_t ms) {
  return TimeUtil::ToString(TimeUtil::MillisecondsToTimestamp(ms));
}

// A node with a token and small helpers around the tasks API.
struct scheduler {
  running_node node;
  std::string token;
  std::string admin = signed_token("root", "admin");

  explicit scheduler(const std::vector<std::string>& overrides = {})
    : node(overrides), token(dev_token(node.port(), "ops")) {}

  http_result call(const std::string& method, const std::string& target,
                   const std::string& body = {}) {
    return http_call(node.port(), method, target, body, bearer(token));
  }

  http_result call_as(const std::string& who, const std::string& method,
                      const std::string& target, const std::string& body = {}) {
    return http_call(node.port(), method, target, body, bearer(who));
  }

  pb::Task create(const std::string& body, int status = 201) {
    return create_as(token, body, status);
  }

  pb::Task create_as(const std::string& who, const std::string& body, int status = 201) {
    auto res = call_as(who, "POST", "/api/v1/tasks", body);
    INFO(res.body);
    REQUIRE(res.status == status);
    return parse_json<pb::Task>(res.body);
  }

  std::vector<pb::Lease> lease_as(const std::string& who, const std::string& type,
                                  int wait_ms = 0, int max_tasks = 10) {
    auto res = call_as(who, "POST", "/api/v1/leases",
                       R"({"worker_id":"w","task_types":[")" + type + R"("],"max_tasks":)"
                         + std::to_string(max_tasks) + R"(,"wait_ms":)"
                         + std::to_string(wait_ms) + "}");
    INFO(res.body);
    REQUIRE(res.status == 200);
    auto page = parse_json<pb::LeaseResponse>(res.body);
    return {page.leases().begin(), page.leases().end()};
  }

  pb::Task get_as(const std::string& who, const std::string& id) {
    auto res = call_as(who, "GET", "/api/v1/tasks/" + id);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::Task>(res.body);
  }

  // Polls the task (as an admin, who sees every task) until `pred` holds.
  pb::Task wait_admin(const std::string& id, const std::function<bool(const pb::Task&)>& pred,
                      std::chrono::milliseconds within = 5s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      auto t = get_as(admin, id);
      if (pred(t))
        return t;
      if (std::chrono::steady_clock::now() > deadline) {
        INFO("task " << id << " is " << pb::Task::Status_Name(t.status()) << ": "
                     << t.last_error());
        FAIL("condition not reached in time");
      }
      std::this_thread::sleep_for(20ms);
    }
  }

  pb::Task get(const std::string& id) {
    auto res = call("GET", "/api/v1/tasks/" + id);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::Task>(res.body);
  }

  std::vector<pb::Lease> lease(const std::string& type, int max_tasks = 1, int wait_ms = 0,
                               int lease_sec = 30) {
    auto res = call("POST", "/api/v1/leases",
                    R"({"worker_id":"w1","task_types":[")" + type + R"("],"max_tasks":)"
                      + std::to_string(max_tasks) + R"(,"wait_ms":)" + std::to_string(wait_ms)
                      + R"(,"lease_sec":)" + std::to_string(lease_sec) + "}");
    INFO(res.body);
    REQUIRE(res.status == 200);
    auto page = parse_json<pb::LeaseResponse>(res.body);
    return {page.leases().begin(), page.leases().end()};
  }

  pb::Lease lease_one(const std::string& type, int wait_ms = 5000, int lease_sec = 30) {
    auto leases = lease(type, 1, wait_ms, lease_sec);
    REQUIRE(leases.size() == 1);
    return leases[0];
  }

  http_result on_lease(const pb::Lease& l, const std::string& verb, const std::string& body = {}) {
    return call("POST", "/api/v1/leases/" + l.lease_id() + "/" + verb, body);
  }

  pb::LeaseOutcome complete(const pb::Lease& l, const std::string& body = "{}") {
    auto res = on_lease(l, "complete", body);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::LeaseOutcome>(res.body);
  }

  pb::LeaseOutcome fail(const pb::Lease& l, const std::string& body) {
    auto res = on_lease(l, "fail", body);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::LeaseOutcome>(res.body);
  }

  pb::TaskList list(const std::string& query) {
    auto res = call("GET", "/api/v1/tasks?" + query);
    INFO(res.body);
    REQUIRE(res.status == 200);
    return parse_json<pb::TaskList>(res.body);
  }

  // Polls the task until `pred` holds (fails after `within`).
  pb::Task wait_for(const std::string& id, const std::function<bool(const pb::Task&)>& pred,
                    std::chrono::milliseconds within = 5s) {
    auto deadline = std::chrono::steady_clock::now() + within;
    for (;;) {
      auto t = get(id);
      if (pred(t))
        return t;
      if (std::chrono::steady_clock::now() > deadline) {
        INFO("task " << id << " is " << pb::Task::Status_Name(t.status()));
        FAIL("condition not reached in time");
      }
      std::this_thread::sleep_for(20ms);
    }
  }
};

// A small HTTP server on a loopback address for the http executor to talk to: it records each
// request and answers it with `answer` (or, with an empty answer, never answers at all).
class target_server {
public:
  explicit target_server(std::string answer, const std::string& address = "127.0.0.1")
    : answer_(std::move(answer)) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    REQUIRE(fd_ >= 0);
    int one = 1;
    ::setsockopt(fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    REQUIRE(::inet_pton(AF_INET, address.c_str(), &addr.sin_addr) == 1);
    REQUIRE(::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(fd_, 16) == 0);
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
    thread_ = std::thread{[this] { serve(); }};
  }

  ~target_server() {
    stop_ = true;
    ::shutdown(fd_, SHUT_RDWR);
    ::close(fd_);
    thread_.join();
    for (int c : open_)
      ::close(c);
  }

  uint16_t port() const { return port_; }

  // Connections accepted so far.
  int connections() {
    std::lock_guard<std::mutex> guard{mtx_};
    return static_cast<int>(open_.size());
  }

  std::vector<std::string> requests() {
    std::lock_guard<std::mutex> guard{mtx_};
    return requests_;
  }

  // Waits until `n` requests arrived (fails after `within`).
  std::vector<std::string> wait_requests(size_t n, std::chrono::milliseconds within = 5s) {
    std::unique_lock<std::mutex> lock{mtx_};
    INFO("requests so far: " << requests_.size());
    REQUIRE(cv_.wait_for(lock, within, [&] { return requests_.size() >= n; }));
    return requests_;
  }

private:
  void serve() {
    while (!stop_) {
      int c = ::accept(fd_, nullptr, nullptr);
      if (c < 0)
        return;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        open_.push_back(c);
      }
      // Reads one request (headers and a Content-Length body).
      std::string in;
      char buf[4096];
      for (;;) {
        auto end = in.find("\r\n\r\n");
        if (end != std::string::npos) {
          auto cl = in.find("Content-Length: ");
          size_t body = cl == std::string::npos ? 0 : std::stoul(in.substr(cl + 16));
          if (in.size() >= end + 4 + body)
            break;
        }
        timeval tv{2, 0};
        ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
        auto n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0)
          break;
        in.append(buf, static_cast<size_t>(n));
      }
      {
        std::lock_guard<std::mutex> guard{mtx_};
        requests_.push_back(in);
      }
      cv_.notify_all();
      if (!answer_.empty())
        ::send(c, answer_.data(), answer_.size(), MSG_NOSIGNAL);
    }
  }

  std::string answer_;
  int fd_ = -1;
  uint16_t port_ = 0;
  std::atomic<bool> stop_{false};
  std::thread thread_;
  std::mutex mtx_;
  std::condition_variable cv_;
  std::vector<int> open_;
  std::vector<std::string> requests_;
};

std::string http_answer(int status, const std::string& reason, const std::string& body,
                        const std::string& extra_headers = {}) {
  return "HTTP/1.1 " + std::to_string(status) + " " + reason + "\r\nContent-Length: "
         + std::to_string(body.size()) + "\r\n" + extra_headers + "Connection: close\r\n\r\n"
         + body;
}

// The "allow this loopback address" override for http tasks against a target_server.
const std::string allow_loopback = R"(tasks.http_allow=["127.0.0.1"])";

std::string http_task(const std::string& url, int max_retries = 0) {
  return R"({"task_type":"http","retry_policy":{"max_retries":)" + std::to_string(max_retries)
         + R"(,"backoff":"fixed","initial_delay_sec":0},"payload":{"url":")" + url + R"("}})";
}

} // namespace

TEST_CASE("an immediate task is created SCHEDULED with every default, and read back") {
  scheduler s;
  auto t = s.create(R"({"task_type":"email","payload":{"to":"a@b.c","n":[1,2]}})");
  CHECK(t.id().size() == 20);
  CHECK(t.status() == pb::Task::SCHEDULED);
  CHECK(t.task_type() == "email");
  CHECK(t.payload().struct_value().fields().at("to").string_value() == "a@b.c");
  CHECK(t.attempt() == 0);
  CHECK(t.max_retries() == 3);
  CHECK(t.retry_policy().backoff() == "exponential");
  CHECK(t.retry_policy().initial_delay_sec() == 10);
  CHECK(t.timeout_sec() == 300);
  CHECK(t.priority() == 0);
  CHECK(t.schedule().type() == "immediate");
  CHECK(t.has_next_run_at());
  CHECK(t.has_created_at());
  auto again = s.get(t.id());
  CHECK(again.id() == t.id());
  CHECK(again.payload().struct_value().fields().at("n").list_value().values_size() == 2);
  CHECK(s.call("GET", "/api/v1/tasks/0000000000zzzzzzzzzz").status == 404);
  CHECK(s.call("GET", "/api/v1/tasks/not-an-id").status == 404);
  CHECK(http_call(s.node.port(), "GET", "/api/v1/tasks/" + t.id()).status == 401);
}

TEST_CASE("the same idempotency key returns the existing task with 200, whatever its status") {
  scheduler s;
  auto body = R"({"task_type":"charge","idempotency_key":"order-42","payload":{"cents":100}})";
  auto first = s.create(body, 201);
  auto second = s.create(body, 200);
  CHECK(second.id() == first.id());
  auto lease = s.lease_one("charge");
  s.complete(lease);
  auto third = s.create(R"({"task_type":"charge","idempotency_key":"order-42"})", 200);
  CHECK(third.id() == first.id());
  CHECK(third.status() == pb::Task::COMPLETED);
  CHECK(s.create(R"({"task_type":"charge","idempotency_key":"order-43"})", 201).id() != first.id());
  // Concurrent creates with one key still make one task.
  std::vector<std::thread> threads;
  std::vector<std::string> ids(8);
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&, i] {
      auto res = http_call(s.node.port(), "POST", "/api/v1/tasks",
                           R"({"task_type":"charge","idempotency_key":"race"})", bearer(s.token));
      if (res.status == 200 || res.status == 201)
        ids[i] = parse_json<pb::Task>(res.body).id();
    });
  for (auto& t : threads)
    t.join();
  CHECK(std::set<std::string>(ids.begin(), ids.end()).size() == 1);
  CHECK_FALSE(ids[0].empty());
}

TEST_CASE("bad task definitions are refused with 400 naming the field") {
  scheduler s({"tasks.max_payload_bytes=64"});
  auto refused = [&](const std::string& body, const std::string& needle, int status = 400) {
    auto res = s.call("POST", "/api/v1/tasks", body);
    INFO(body << " -> " << res.body);
    CHECK(res.status == status);
    CHECK(res.body.find(needle) != std::string::npos);
  };
  refused(R"({"payload":{}})", "task_type is required");
  refused(R"({"task_type":"a b"})", "task_type must match");
  refused(R"({"task_type":"x","schedule":{"type":"cron","cron":"61 * * * *"}})",
          "schedule.cron: minute");
  refused(R"({"task_type":"x","schedule":{"type":"cron","cron":"0 0 30 2 *"}})", "never fires");
  refused(R"({"task_type":"x","schedule":{"type":"cron"}})", "schedule.cron is required");
  refused(R"({"task_type":"x","schedule":{"type":"delayed","run_at":"tomorrow"}})", "run_at");
  refused(R"({"task_type":"x","schedule":{"type":"delayed"}})", "schedule.run_at is required");
  refused(R"({"task_type":"x","schedule":{"type":"weekly"}})", "schedule.type must be");
  refused(R"({"task_type":"x","retry_policy":{"max_retries":-1}})", "retry_policy.max_retries");
  refused(R"({"task_type":"x","retry_policy":{"max_retries":1000}})", "retry_policy.max_retries");
  refused(R"({"task_type":"x","retry_policy":{"backoff":"linear"}})", "retry_policy.backoff");
  refused(R"({"task_type":"x","retry_policy":{"initial_delay_sec":-5}})", "initial_delay_sec");
  refused(R"({"task_type":"x","timeout_sec":0})", "timeout_sec");
  refused(R"({"task_type":"x","timeout_sec":100000})", "timeout_sec");
  refused(R"({"task_type":"x","priority":5000})", "priority");
  refused(R"({"task_type":"x","payload":{"blob":")" + std::string(200, 'a') + R"("}})",
          "max_payload_bytes", 413);
  refused(R"({"task_type":)", "bad_request");
  refused("[1,2]", "bad_request");
  auto huge = R"({"task_type":"x","payload":")" + std::string(1100000, 'a') + R"("})";
  CHECK(s.call("POST", "/api/v1/tasks", huge).status == 413);
  CHECK(s.list("").tasks_size() == 0);  // nothing half-created
}

TEST_CASE("a delayed task waits PENDING and a long-polling worker gets it on time") {
  scheduler s;
  auto past = s.create(R"({"task_type":"later","schedule":{"type":"delayed","run_at":")"
                       + rfc3339(unix_ms() - 60000) + R"("}})");
  CHECK(past.status() == pb::Task::SCHEDULED);  // run_at in the past: runs now
  s.complete(s.lease_one("later"));
  auto due = unix_ms() + 1200;
  auto t = s.create(R"({"task_type":"later","schedule":{"type":"delayed","run_at":")"
                    + rfc3339(due) + R"("}})");
  CHECK(t.status() == pb::Task::PENDING);
  CHECK(TimeUtil::TimestampToMilliseconds(t.next_run_at()) == due);
  CHECK(s.lease("later").empty());
  auto lease = s.lease_one("later", 5000);
  auto late = unix_ms() - due;
  CHECK(lease.task_id() == t.id());
  CHECK(late >= 0);
  CHECK(late < 500);
  CHECK(s.get(t.id()).status() == pb::Task::RUNNING);
}

TEST_CASE("a long poll answers as soon as a matching task is created, or empty when time is up") {
  scheduler s;
  auto start = std::chrono::steady_clock::now();
  CHECK(s.lease("idle", 1, 300).empty());
  CHECK(std::chrono::steady_clock::now() - start >= 280ms);
  // The poll runs on a thread of its own without Catch2 macros, which are not thread-safe. A
  // lease in its answer shows it was woken by the create: at its deadline it answers empty.
  auto port = s.node.port();
  auto token = s.token;
  auto parked = metric_value(s.node, "parley_task_workers_waiting");  // the built-in executors
  auto waiting = std::async(std::launch::async, [port, token] {
    return http_call(port, "POST", "/api/v1/leases",
                     R"({"worker_id":"w","task_types":["wake"],"wait_ms":10000})", bearer(token));
  });
  REQUIRE(eventually([&] { return metric_value(s.node, "parley_task_workers_waiting") == parked + 1; }));
  auto created = s.create(R"({"task_type":"wake"})");
  auto polled = waiting.get();
  REQUIRE(polled.status == 200);
  auto woke = parse_json<pb::LeaseResponse>(polled.body);
  REQUIRE(woke.leases_size() == 1);
  CHECK(woke.leases(0).task_id() == created.id());
}

TEST_CASE("due tasks are leased by priority, then by next_run_at, in batches") {
  scheduler s;
  auto low = s.create(R"({"task_type":"p","priority":-5})");
  auto mid1 = s.create(R"({"task_type":"p"})");
  auto high = s.create(R"({"task_type":"p","priority":10})");
  auto mid2 = s.create(R"({"task_type":"p"})");
  auto other = s.create(R"({"task_type":"q","priority":100})");
  auto leases = s.lease("p", 10);
  REQUIRE(leases.size() == 4);
  CHECK(leases[0].task_id() == high.id());
  CHECK(leases[1].task_id() == mid1.id());
  CHECK(leases[2].task_id() == mid2.id());
  CHECK(leases[3].task_id() == low.id());
  CHECK(s.get(other.id()).status() == pb::Task::SCHEDULED);
  for (auto& l : leases) {
    CHECK(l.attempt() == 1);
    CHECK(l.task_type() == "p");
    CHECK(l.has_lease_expires_at());
  }
}

TEST_CASE("a worker heartbeats and completes, and the lease is a fencing token") {
  scheduler s;
  auto t = s.create(R"({"task_type":"job"})");
  auto lease = s.lease_one("job", 0, 5);
  auto hb = s.on_lease(lease, "heartbeat", R"({"lease_sec":60})");
  REQUIRE(hb.status == 200);
  auto beat = parse_json<pb::HeartbeatResponse>(hb.body);
  CHECK_FALSE(beat.cancel_requested());
  CHECK(TimeUtil::TimestampToMilliseconds(beat.lease_expires_at()) > unix_ms() + 50000);
  auto out = s.complete(lease, R"({"result":{"rows":7}})");
  CHECK(out.status() == pb::Task::COMPLETED);
  auto done = s.get(t.id());
  CHECK(done.status() == pb::Task::COMPLETED);
  CHECK(done.result().struct_value().fields().at("rows").number_value() == 7);
  CHECK_FALSE(done.has_next_run_at());
  // Double complete, and everything else under the spent lease: 409.
  CHECK(s.on_lease(lease, "complete").status == 409);
  CHECK(s.on_lease(lease, "fail", R"({"error":"late"})").status == 409);
  CHECK(s.on_lease(lease, "heartbeat").status == 409);
  // A lease id that was never handed out for this task: 409; one that names no task: 404.
  auto forged = lease;
  forged.set_lease_id(t.id() + ".0000000000000");
  CHECK(s.on_lease(forged, "complete").status == 409);
  forged.set_lease_id("nonsense");
  CHECK(s.on_lease(forged, "complete").status == 404);
  forged.set_lease_id("0000000000zzzzzzzzzz.0000000000000");
  CHECK(s.on_lease(forged, "heartbeat").status == 404);
  // The run is recorded.
  auto runs = parse_json<pb::TaskRuns>(s.call("GET", "/api/v1/tasks/" + t.id() + "/runs").body);
  REQUIRE(runs.runs_size() == 1);
  CHECK(runs.runs(0).outcome() == "completed");
  CHECK(runs.runs(0).worker_id() == "w1");
  CHECK(runs.runs(0).attempt() == 1);
}

TEST_CASE("failures retry with backoff, then land in the dead-letter list, and requeue") {
  scheduler s;
  auto t = s.create(
    R"({"task_type":"flaky","retry_policy":{"max_retries":1,"backoff":"fixed","initial_delay_sec":1}})");
  auto first = s.lease_one("flaky");
  auto before = unix_ms();
  auto out = s.fail(first, R"({"error":"smtp down"})");
  CHECK(out.status() == pb::Task::RETRYING);
  auto retry_at = TimeUtil::TimestampToMilliseconds(out.next_run_at());
  CHECK(retry_at >= before + 1000);
  CHECK(retry_at <= unix_ms() + 1250 + 50);  // 1 s plus at most 25% jitter
  auto retrying = s.get(t.id());
  CHECK(retrying.status() == pb::Task::RETRYING);
  CHECK(retrying.last_error() == "smtp down");
  CHECK(s.list("status=failed").tasks_size() == 1);
  auto second = s.lease_one("flaky", 5000);
  CHECK(second.attempt() == 2);
  CHECK(unix_ms() >= retry_at);
  CHECK(s.fail(second, R"({"error":"still down"})").status() == pb::Task::DEAD);
  auto dead = s.list("status=DEAD");
  REQUIRE(dead.tasks_size() == 1);
  CHECK(dead.tasks(0).id() == t.id());
  CHECK(dead.tasks(0).last_error() == "still down");
  CHECK(s.list("status=failed").tasks_size() == 1);
  CHECK(metric_value(s.node, "parley_tasks{status=\"DEAD\"}") == 1);
  auto runs = parse_json<pb::TaskRuns>(s.call("GET", "/api/v1/tasks/" + t.id() + "/runs").body);
  CHECK(runs.runs_size() == 2);
  // Requeue: back with attempts reset; requeue of a live task is a conflict.
  auto requeued = parse_json<pb::Task>(s.call("POST", "/api/v1/tasks/" + t.id() + "/requeue").body);
  CHECK(requeued.status() == pb::Task::SCHEDULED);
  CHECK(requeued.attempt() == 0);
  auto conflict = s.call("POST", "/api/v1/tasks/" + t.id() + "/requeue");
  CHECK(conflict.status == 409);
  CHECK(conflict.body.find("SCHEDULED") != std::string::npos);
  CHECK(s.lease_one("flaky").attempt() == 1);
}

TEST_CASE("a non-retryable failure goes straight to DEAD") {
  scheduler s;
  auto t = s.create(R"({"task_type":"parse"})");
  auto out = s.fail(s.lease_one("parse"), R"({"error":"bad input","retryable":false})");
  CHECK(out.status() == pb::Task::DEAD);
  CHECK(s.get(t.id()).attempt() == 1);
  CHECK(s.list("status=DEAD").tasks_size() == 1);
  // Discarding the dead letter: CANCELLED, out of the list, and final.
  CHECK(parse_json<pb::Task>(s.call("DELETE", "/api/v1/tasks/" + t.id()).body).status()
        == pb::Task::CANCELLED);
  CHECK(s.list("status=DEAD").tasks_size() == 0);
  CHECK(s.call("POST", "/api/v1/tasks/" + t.id() + "/requeue").status == 409);
}

TEST_CASE("a lease that expires without heartbeat is a failed attempt, and its worker is fenced") {
  scheduler s;
  auto t = s.create(
    R"({"task_type":"slow","retry_policy":{"max_retries":2,"backoff":"fixed","initial_delay_sec":0}})");
  auto expiries = metric_value(s.node, "parley_task_lease_expiries_total");
  auto zombie = s.lease_one("slow", 0, 1);
  auto next = s.lease_one("slow", 5000);  // leased again once the first lease ran out
  CHECK(next.task_id() == t.id());
  CHECK(next.attempt() == 2);
  CHECK(s.get(t.id()).last_error() == "lease expired");
  CHECK(s.on_lease(zombie, "heartbeat").status == 409);
  CHECK(s.on_lease(zombie, "complete").status == 409);
  CHECK(s.complete(next).status() == pb::Task::COMPLETED);
  CHECK(metric_value(s.node, "parley_task_lease_expiries_total") == expiries + 1);
  auto runs = parse_json<pb::TaskRuns>(s.call("GET", "/api/v1/tasks/" + t.id() + "/runs").body);
  REQUIRE(runs.runs_size() == 2);
  CHECK(runs.runs(0).outcome() == "lease_expired");
}

TEST_CASE("a heartbeat cannot stretch a lease past the task's timeout") {
  scheduler s;
  s.create(R"({"task_type":"bounded","timeout_sec":2})");
  auto lease = s.lease_one("bounded", 0, 60);
  auto expires = TimeUtil::TimestampToMilliseconds(lease.lease_expires_at());
  CHECK(expires <= unix_ms() + 2000);
  auto hb = parse_json<pb::HeartbeatResponse>(s.on_lease(lease, "heartbeat", R"({"lease_sec":600})").body);
  CHECK(TimeUtil::TimestampToMilliseconds(hb.lease_expires_at()) <= expires);
}

TEST_CASE("cancel: waiting tasks at once, a running one through its worker's heartbeat") {
  scheduler s;
  auto waiting = s.create(R"({"task_type":"c"})");
  auto cancelled = parse_json<pb::Task>(s.call("DELETE", "/api/v1/tasks/" + waiting.id()).body);
  CHECK(cancelled.status() == pb::Task::CANCELLED);
  CHECK(s.lease("c").empty());
  auto again = s.call("DELETE", "/api/v1/tasks/" + waiting.id());
  CHECK(again.status == 409);
  CHECK(again.body.find("CANCELLED") != std::string::npos);
  auto running = s.create(R"({"task_type":"c"})");
  auto lease = s.lease_one("c");
  CHECK(s.call("DELETE", "/api/v1/tasks/" + running.id()).status == 200);
  auto hb = s.on_lease(lease, "heartbeat");
  REQUIRE(hb.status == 200);
  CHECK(parse_json<pb::HeartbeatResponse>(hb.body).cancel_requested());
  auto late = s.on_lease(lease, "complete");
  CHECK(late.status == 409);  // complete after cancel: its work is not recorded
  CHECK(late.body.find("cancelled") != std::string::npos);
  CHECK(s.get(running.id()).status() == pb::Task::CANCELLED);
  CHECK(s.call("DELETE", "/api/v1/tasks/0000000000zzzzzzzzzz").status == 404);
}

TEST_CASE("pause keeps a task from workers until resume, and invalid transitions are 409") {
  scheduler s;
  auto t = s.create(R"({"task_type":"pz"})");
  auto paused = parse_json<pb::Task>(s.call("PATCH", "/api/v1/tasks/" + t.id() + "/pause").body);
  CHECK(paused.status() == pb::Task::PAUSED);
  CHECK(s.lease("pz").empty());
  CHECK(s.call("PATCH", "/api/v1/tasks/" + t.id() + "/pause").status == 409);
  auto resumed = parse_json<pb::Task>(s.call("PATCH", "/api/v1/tasks/" + t.id() + "/resume").body);
  CHECK(resumed.status() == pb::Task::SCHEDULED);
  CHECK(s.call("PATCH", "/api/v1/tasks/" + t.id() + "/resume").status == 409);
  auto lease = s.lease_one("pz");
  auto conflict = s.call("PATCH", "/api/v1/tasks/" + t.id() + "/pause");
  CHECK(conflict.status == 409);
  CHECK(conflict.body.find("RUNNING") != std::string::npos);
  s.complete(lease);
  CHECK(s.call("PATCH", "/api/v1/tasks/" + t.id() + "/resume").status == 409);
  CHECK(s.call("POST", "/api/v1/tasks/" + t.id() + "/requeue").status == 409);
}

TEST_CASE("listing filters by status and type, pages with a cursor, and clamps limit") {
  scheduler s;
  std::vector<std::string> ids;
  for (int i = 0; i < 7; ++i)
    ids.push_back(s.create(R"({"task_type":")" + std::string(i % 2 ? "odd" : "even") + R"("})").id());
  auto lease = s.lease_one("odd");
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 10; ++page) {
    auto res = s.list("limit=3" + (cursor.empty() ? "" : "&cursor=" + cursor));
    for (auto& t : res.tasks())
      seen.push_back(t.id());
    cursor = res.next_cursor();
    if (cursor.empty())
      break;
  }
  // Creation order to the millisecond (ids of one millisecond order by their random part).
  CHECK(std::is_sorted(seen.begin(), seen.end()));
  std::sort(ids.begin(), ids.end());
  CHECK(seen == ids);  // no duplicates or gaps
  CHECK(s.list("task_type=even").tasks_size() == 4);
  CHECK(s.list("status=RUNNING").tasks_size() == 1);
  CHECK(s.list("status=running&task_type=odd").tasks(0).id() == lease.task_id());
  CHECK(s.list("status=SCHEDULED&task_type=odd").tasks_size() == 2);
  CHECK(s.list("limit=0").tasks_size() == 1);
  CHECK(s.list("limit=500").tasks_size() == 7);
  CHECK(s.call("GET", "/api/v1/tasks?limit=abc").status == 400);
  CHECK(s.call("GET", "/api/v1/tasks?status=SLEEPING").status == 400);
  CHECK(s.call("GET", "/api/v1/tasks?cursor=%%%").status == 400);
  CHECK(s.call("GET", "/api/v1/tasks/" + ids[0] + "/runs").status == 200);
  CHECK(s.call("GET", "/api/v1/tasks/0000000000zzzzzzzzzz/runs").status == 404);
}

TEST_CASE("bad lease requests are refused with 400") {
  scheduler s;
  auto refused = [&](const std::string& body, const std::string& needle) {
    auto res = s.call("POST", "/api/v1/leases", body);
    INFO(body << " -> " << res.body);
    CHECK(res.status == 400);
    CHECK(res.body.find(needle) != std::string::npos);
  };
  refused(R"({"task_types":["a"]})", "worker_id");
  refused(R"({"worker_id":"w","task_types":[]})", "task_types");
  refused(R"({"worker_id":"w","task_types":["a"],"max_tasks":101})", "max_tasks");
  refused(R"({"worker_id":"w","task_types":["a"],"lease_sec":7200})", "lease_sec");
  refused(R"({"worker_id":"w","task_types":["a"],"wait_ms":70000})", "wait_ms");
  refused(R"({"worker_id":)", "bad_request");
  auto t = s.create(R"({"task_type":"a"})");
  auto lease = s.lease_one("a");
  CHECK(s.on_lease(lease, "fail", "{}").status == 400);  // error is required
  CHECK(s.on_lease(lease, "complete", "not json").status == 400);
  CHECK(s.get(t.id()).status() == pb::Task::RUNNING);  // nothing recorded by the bad calls
}

TEST_CASE("a long poll outlasts the HTTP I/O timeout: its connection stays open until the answer") {
  // The I/O deadline bounds reading a request and writing its answer, not a handler's own wait.
  scheduler s({"http.request_timeout_sec=1"});
  auto start = std::chrono::steady_clock::now();
  CHECK(s.lease("nothing-queued", 1, 2500).empty());
  CHECK(std::chrono::steady_clock::now() - start >= std::chrono::milliseconds{2400});
}

TEST_CASE("a cron task is PENDING until its next minute, which is a whole UTC minute") {
  scheduler s;
  auto t = s.create(R"({"task_type":"tick","schedule":{"type":"cron","cron":"*/5 * * * *"}})");
  CHECK(t.status() == pb::Task::PENDING);
  auto next = TimeUtil::TimestampToMilliseconds(t.next_run_at());
  CHECK(next % 60000 == 0);
  CHECK((next / 60000) % 5 == 0);
  CHECK(next > unix_ms());
  CHECK(next <= unix_ms() + 5 * 60000);
  auto daily = s.create(R"({"task_type":"tick","schedule":{"type":"cron","cron":"@daily"}})");
  CHECK(TimeUtil::TimestampToMilliseconds(daily.next_run_at()) % 86400000 == 0);
}

TEST_CASE("each firing of a cron task is a run, and the schedule continues after it") {
  scheduler s;
  auto t = s.create(R"({"task_type":"minutely","schedule":{"type":"cron","cron":"* * * * *"}})");
  auto due = TimeUtil::TimestampToMilliseconds(t.next_run_at());
  auto leases = s.lease("minutely", 1, 60000);
  if (leases.empty())
    leases = s.lease("minutely", 1, 5000);
  REQUIRE(leases.size() == 1);
  auto lease = leases[0];
  CHECK(unix_ms() >= due);
  auto out = s.complete(lease, R"({"result":"ok"})");
  CHECK(out.status() == pb::Task::PENDING);
  CHECK(TimeUtil::TimestampToMilliseconds(out.next_run_at()) == due + 60000);
  auto after = s.get(t.id());
  CHECK(after.status() == pb::Task::PENDING);
  CHECK(after.attempt() == 0);
  auto runs = parse_json<pb::TaskRuns>(s.call("GET", "/api/v1/tasks/" + t.id() + "/runs").body);
  REQUIRE(runs.runs_size() == 1);
  CHECK(TimeUtil::TimestampToMilliseconds(runs.runs(0).scheduled_for()) == due);
}

TEST_CASE("tasks survive a restart: waiting ones are reloaded, finished ones stay finished") {
  temp_dir dir;
  std::string pending_id, scheduled_id, done_id, running_id;
  pb::Lease running_lease;
  {
    scheduler s({"storage.data_dir=" + dir.path()});
    auto due = unix_ms() + 1500;
    pending_id = s.create(R"({"task_type":"r","schedule":{"type":"delayed","run_at":")"
                          + rfc3339(due) + R"("}})").id();
    done_id = s.create(R"({"task_type":"done"})").id();
    s.complete(s.lease_one("done"));
    running_id = s.create(R"({"task_type":"run"})").id();
    running_lease = s.lease_one("run", 0, 60);
    scheduled_id = s.create(R"({"task_type":"r","priority":5})").id();
  }
  running_node node{dir.path(), {}};
  auto token = dev_token(node.port(), "ops");
  auto call = [&](const std::string& m, const std::string& t, const std::string& b = {}) {
    return http_call(node.port(), m, t, b, bearer(token));
  };
  CHECK(parse_json<pb::Task>(call("GET", "/api/v1/tasks/" + done_id).body).status()
        == pb::Task::COMPLETED);
  auto res = call("POST", "/api/v1/leases",
                  R"({"worker_id":"w","task_types":["r"],"max_tasks":2,"wait_ms":5000})");
  auto first = parse_json<pb::LeaseResponse>(res.body);
  REQUIRE(first.leases_size() >= 1);
  CHECK(first.leases(0).task_id() == scheduled_id);
  if (first.leases_size() == 1) {
    res = call("POST", "/api/v1/leases",
               R"({"worker_id":"w","task_types":["r"],"max_tasks":1,"wait_ms":5000})");
    auto second = parse_json<pb::LeaseResponse>(res.body);
    REQUIRE(second.leases_size() == 1);
    CHECK(second.leases(0).task_id() == pending_id);
  } else {
    CHECK(first.leases(1).task_id() == pending_id);
  }
  // A lease granted before the restart is still honoured until it expires.
  auto hb = call("POST", "/api/v1/leases/" + running_lease.lease_id() + "/heartbeat");
  CHECK(hb.status == 200);
  auto fin = call("POST", "/api/v1/leases/" + running_lease.lease_id() + "/complete");
  CHECK(fin.status == 200);
}

TEST_CASE("the built-in http executor POSTs the payload and records the answer") {
  scheduler s({allow_loopback});
  // The node's own dev-token endpoint is a handy 2xx target that reads a JSON body.
  auto url = "http://127.0.0.1:" + std::to_string(s.node.port()) + "/api/v1/dev/token";
  auto ok = s.create_as(s.admin, R"({"task_type":"http","payload":{"url":")" + url
                                   + R"(","user_id":"hook"}})");
  auto done = s.wait_admin(ok.id(), [](auto& t) { return t.status() == pb::Task::COMPLETED; });
  CHECK(done.result().struct_value().fields().at("status").number_value() == 200);
  auto refused = s.create_as(
    s.admin,
    R"({"task_type":"http","retry_policy":{"max_retries":1,"backoff":"fixed","initial_delay_sec":0},)"
    R"("payload":{"url":"http://127.0.0.1:)" + std::to_string(s.node.port()) + R"(/healthz"}})");
  auto dead = s.wait_admin(refused.id(), [](auto& t) { return t.status() == pb::Task::DEAD; });
  CHECK(dead.attempt() == 2);
  CHECK(dead.last_error().find("HTTP 405") == 0);
  auto bad_url = s.create_as(s.admin, R"({"task_type":"http","payload":{"url":"ftp://example.com/x"}})");
  auto buried = s.wait_admin(bad_url.id(), [](auto& t) { return t.status() == pb::Task::DEAD; });
  CHECK(buried.attempt() == 1);  // not retried: it can never work
  // A URL that would smuggle a header into the request is refused as malformed.
  auto smuggler = s.create_as(s.admin, R"({"task_type":"http","payload":{"url":"http://127.0.0.1:)"
                                         + std::to_string(s.node.port())
                                         + R"(/x HTTP/1.1\r\nX-Evil: 1\r\n"}})");
  auto refused_url = s.wait_admin(smuggler.id(), [](auto& t) { return t.status() == pb::Task::DEAD; });
  CHECK(refused_url.attempt() == 1);
  CHECK(refused_url.last_error().find("url must be") == 0);
  auto no_url = s.create_as(s.admin, R"({"task_type":"http","payload":[1,2]})");
  CHECK(s.wait_admin(no_url.id(), [](auto& t) { return t.status() == pb::Task::DEAD; })
          .last_error()
          .find("payload.url") != std::string::npos);
}

TEST_CASE("task metrics count tasks by status and the scheduling lateness") {
  scheduler s;
  s.create(R"({"task_type":"m"})");
  s.create(R"({"task_type":"m"})");
  CHECK(metric_value(s.node, "parley_tasks{status=\"SCHEDULED\"}") == 2);
  s.complete(s.lease_one("m"));
  CHECK(metric_value(s.node, "parley_tasks{status=\"SCHEDULED\"}") == 1);
  CHECK(metric_value(s.node, "parley_tasks{status=\"COMPLETED\"}") == 1);
  CHECK(metric_value(s.node, "parley_task_scheduling_lateness_seconds_count") >= 1);
  CHECK(metric_value(s.node, "parley_tasks_created_total") >= 2);
}

TEST_CASE("a batch of leases is completed by one request, each with its own outcome") {
  scheduler s;
  for (int i = 0; i < 5; ++i)
    s.create(R"({"task_type":"many"})");
  auto leases = s.lease("many", 5);
  REQUIRE(leases.size() == 5);
  std::string body = R"({"completions":[)";
  for (size_t i = 0; i < leases.size(); ++i)
    body += (i ? "," : "") + std::string{R"({"lease_id":")"} + leases[i].lease_id()
            + R"(","result":)" + std::to_string(i) + "}";
  body += R"(,{"lease_id":")" + leases[0].lease_id() + R"("},{"lease_id":"bogus"}]})";
  auto res = s.call("POST", "/api/v1/leases/complete", body);
  INFO(res.body);
  REQUIRE(res.status == 200);
  // One outcome per completion, in order: five COMPLETED, a repeated lease (409), a bogus one.
  CHECK(res.body.rfind(R"({"outcomes":[{"lease_id":")" + leases[0].lease_id()
                         + R"(","status":"COMPLETED"})", 0) == 0);
  size_t completed = 0;
  const std::string done = R"("status":"COMPLETED")";
  for (size_t at = res.body.find(done); at != std::string::npos; at = res.body.find(done, at + 1))
    ++completed;
  CHECK(completed == 5);
  CHECK(res.body.find(R"("error":{"code":"conflict")") != std::string::npos);
  CHECK(res.body.find(R"({"lease_id":"bogus","error":{"code":"not_found")") != std::string::npos);
  CHECK(s.get(leases[3].task_id()).result().number_value() == 3);
  CHECK(s.call("POST", "/api/v1/leases/complete", R"({"completions":[]})").status == 400);
  CHECK(s.call("POST", "/api/v1/leases/complete", "{").status == 400);
}

namespace {

// A raw TCP connection to the node on loopback, for requests the HTTP helpers cannot shape.
int connect_to_node(uint16_t port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  return fd;
}

} // namespace

TEST_CASE("a worker that hangs up while long-polling is not handed tasks") {
  scheduler s;
  // A raw connection sends a long poll and closes without waiting for the answer.
  int fd = connect_to_node(s.node.port());
  std::string body = R"({"worker_id":"ghost","task_types":["gone"],"wait_ms":20000})";
  std::string request = "POST /api/v1/leases HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer "
                        + s.token + "\r\nContent-Length: " + std::to_string(body.size())
                        + "\r\n\r\n" + body;
  auto parked = metric_value(s.node, "parley_task_workers_waiting");  // the built-in executors
  auto hangups = metric_value(s.node, "parley_http_hangups_total");
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  REQUIRE(eventually([&] { return metric_value(s.node, "parley_task_workers_waiting") == parked + 1; }));
  ::close(fd);
  REQUIRE(eventually([&] { return metric_value(s.node, "parley_http_hangups_total") == hangups + 1; }));
  auto t = s.create(R"({"task_type":"gone"})");
  auto lease = s.lease_one("gone", 2000);
  CHECK(lease.task_id() == t.id());
}

// A raw keep-alive connection to the node that sends each request's head and body in two writes,
// as many HTTP clients do.
struct split_writes_connection {
  int fd = -1;
  std::string received;

  explicit split_writes_connection(uint16_t port) : fd(connect_to_node(port)) {
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    timeval limit{10, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }
  ~split_writes_connection() { ::close(fd); }

  void send_all(const std::string& bytes) {
    REQUIRE(::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL)
            == static_cast<ssize_t>(bytes.size()));
  }

  // The status line and body of the answer.
  std::pair<std::string, std::string> post(const std::string& target, const std::string& token,
                                           const std::string& body) {
    send_all("POST " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + token
             + "\r\nContent-Type: application/json\r\nContent-Length: "
             + std::to_string(body.size()) + "\r\n\r\n");
    send_all(body);
    size_t head_end;
    while ((head_end = received.find("\r\n\r\n")) == std::string::npos)
      read_more();
    auto head = received.substr(0, head_end);
    auto at = head.find("Content-Length: ");
    REQUIRE(at != std::string::npos);
    auto length = std::stoul(head.substr(at + 16));
    while (received.size() < head_end + 4 + length)
      read_more();
    auto answer = received.substr(head_end + 4, length);
    received.erase(0, head_end + 4 + length);
    return {head.substr(0, head.find("\r\n")), answer};
  }

  void read_more() {
    char buf[4096];
    auto n = ::recv(fd, buf, sizeof buf, 0);
    REQUIRE(n > 0);
    received.append(buf, static_cast<size_t>(n));
  }
};

TEST_CASE("long polls on one keep-alive connection are not taken for hang-ups") {
  // The node watches a long poll's connection for the client hanging up. The socket turning
  // readable is no proof: the next request on the same connection does it (the watch must end
  // with the answer), and so does a late edge for bytes already read. A false hang-up revoked
  // the leases granted and answered the worker with none, which read as an empty queue.
  scheduler s;
  constexpr int rounds = 40;
  for (int i = 0; i < rounds; ++i)
    s.create(R"({"task_type":"kept"})");
  auto hangups = metric_value(s.node, "parley_http_hangups_total");
  split_writes_connection worker{s.node.port()};
  for (int i = 0; i < rounds; ++i) {
    auto [status, body] = worker.post(
      "/api/v1/leases", s.token,
      R"({"worker_id":"keeper","task_types":["kept"],"max_tasks":1,"wait_ms":5000})");
    INFO("round " << i << ": " << status << " " << body);
    REQUIRE(status == "HTTP/1.1 200 OK");
    auto page = parse_json<pb::LeaseResponse>(body);
    REQUIRE(page.leases_size() == 1);
    auto [done_status, done] =
      worker.post("/api/v1/leases/" + page.leases(0).lease_id() + "/complete", s.token, "{}");
    INFO(done);
    REQUIRE(done_status == "HTTP/1.1 200 OK");
  }
  CHECK(metric_value(s.node, "parley_http_hangups_total") == hangups);
  CHECK(metric_value(s.node, "parley_tasks_leased_total") == rounds);
}

// -- ownership, roles and reserved types ----------------------------------------------------------

TEST_CASE("another user's task does not exist for them: read, runs, commands and lists answer 404") {
  scheduler s;
  auto alice = signed_token("alice");
  auto bob = signed_token("bob");
  auto mine = s.create_as(alice, R"({"task_type":"job","payload":{"secret":"alice's"}})");
  auto later = s.create_as(alice, R"({"task_type":"job","schedule":{"type":"delayed","run_at":")"
                                    + rfc3339(unix_ms() + 600000) + R"("}})");
  auto theirs = s.create_as(bob, R"({"task_type":"job"})");
  auto path = "/api/v1/tasks/" + mine.id();
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
         {"GET", path},
         {"GET", path + "/runs"},
         {"DELETE", path},
         {"PATCH", path + "/pause"},
         {"PATCH", "/api/v1/tasks/" + later.id() + "/pause"},
         {"PATCH", path + "/resume"},
         {"POST", path + "/requeue"}}) {
    auto res = s.call_as(bob, method, target);
    INFO(method << " " << target << ": " << res.body);
    CHECK(res.status == 404);
    CHECK(res.body.find("\"not_found\"") != std::string::npos);
    CHECK(res.body.find("secret") == std::string::npos);
  }
  // Nothing changed for the owner, who can still act on it.
  CHECK(s.get_as(alice, mine.id()).status() == pb::Task::SCHEDULED);
  CHECK(s.call_as(alice, "PATCH", "/api/v1/tasks/" + later.id() + "/pause").status == 200);
  CHECK(s.call_as(alice, "GET", path + "/runs").status == 200);
  // Lists show the caller's own tasks only, with every filter; an admin sees everyone's.
  auto ids_of = [&](const std::string& who, const std::string& query) {
    auto res = s.call_as(who, "GET", "/api/v1/tasks?" + query);
    INFO(res.body);
    REQUIRE(res.status == 200);
    std::set<std::string> out;
    auto list = parse_json<pb::TaskList>(res.body);
    for (auto& t : list.tasks())
      out.insert(t.id());
    return out;
  };
  CHECK(ids_of(bob, "") == std::set<std::string>{theirs.id()});
  CHECK(ids_of(bob, "task_type=job") == std::set<std::string>{theirs.id()});
  CHECK(ids_of(bob, "status=SCHEDULED") == std::set<std::string>{theirs.id()});
  CHECK(ids_of(bob, "status=PAUSED").empty());
  CHECK(ids_of(alice, "") == std::set<std::string>{mine.id(), later.id()});
  CHECK(ids_of(alice, "status=PAUSED") == std::set<std::string>{later.id()});
  CHECK(ids_of(s.admin, "task_type=job") == std::set<std::string>{mine.id(), later.id(), theirs.id()});
  CHECK(s.get_as(s.admin, mine.id()).id() == mine.id());
  // Paging through one's own tasks: pages of 1, no duplicates, no one else's.
  std::vector<std::string> seen;
  std::string cursor;
  for (int page = 0; page < 5; ++page) {
    auto res = s.call_as(alice, "GET", "/api/v1/tasks?limit=1&cursor=" + cursor);
    auto list = parse_json<pb::TaskList>(res.body);
    for (auto& t : list.tasks())
      seen.push_back(t.id());
    cursor = list.next_cursor();
    if (list.tasks_size() == 0)
      break;
  }
  CHECK(seen == std::vector<std::string>{mine.id(), later.id()});
  // The admin may command anyone's task.
  CHECK(s.call_as(s.admin, "DELETE", "/api/v1/tasks/" + theirs.id()).status == 200);
}

TEST_CASE("idempotency keys are per owner: the same key of two users makes two tasks") {
  scheduler s;
  auto alice = signed_token("alice");
  auto bob = signed_token("bob");
  auto a = s.create_as(alice, R"({"task_type":"job","idempotency_key":"k1"})");
  auto b = s.create_as(bob, R"({"task_type":"job","idempotency_key":"k1"})");
  CHECK(a.id() != b.id());
  CHECK(s.create_as(alice, R"({"task_type":"job","idempotency_key":"k1"})", 200).id() == a.id());
  CHECK(s.create_as(bob, R"({"task_type":"job","idempotency_key":"k1"})", 200).id() == b.id());
  CHECK(s.call_as(bob, "GET", "/api/v1/tasks/" + a.id()).status == 404);
}

TEST_CASE("an ordinary user's worker leases only that user's tasks, and a worker token leases any") {
  scheduler s;
  auto alice = signed_token("alice");
  auto bob = signed_token("bob");
  auto service = signed_token("svc", "worker");
  auto a1 = s.create_as(alice, R"({"task_type":"conv","priority":9})");
  auto b1 = s.create_as(bob, R"({"task_type":"conv"})");
  // Bob's worker gets Bob's task although Alice's ranks higher, and nothing more.
  auto got = s.lease_as(bob, "conv", 0);
  REQUIRE(got.size() == 1);
  CHECK(got[0].task_id() == b1.id());
  CHECK(s.lease_as(bob, "conv", 300).empty());  // waited, found nothing of Bob's
  // A long-polling user is woken by their own task, not by someone else's. (The poll runs on a
  // thread of its own without Catch2 macros, which are not thread-safe.)
  auto port = s.node.port();
  auto parked = metric_value(s.node, "parley_task_workers_waiting");  // the built-in executors
  auto waiting = std::async(std::launch::async, [port, bob] {
    return http_call(port, "POST", "/api/v1/leases",
                     R"({"worker_id":"w","task_types":["conv"],"max_tasks":10,"wait_ms":3000})",
                     bearer(bob));
  });
  for (int i = 0; i < 250 && metric_value(s.node, "parley_task_workers_waiting") == parked; ++i)
    std::this_thread::sleep_for(20ms);
  REQUIRE(metric_value(s.node, "parley_task_workers_waiting") == parked + 1);  // Bob's poll
  auto a2 = s.create_as(alice, R"({"task_type":"conv"})");
  auto b2 = s.create_as(bob, R"({"task_type":"conv"})");
  auto polled = waiting.get();
  REQUIRE(polled.status == 200);
  auto woke = parse_json<pb::LeaseResponse>(polled.body);
  REQUIRE(woke.leases_size() == 1);
  CHECK(woke.leases(0).task_id() == b2.id());
  // The service account leases Alice's tasks, best first.
  auto any = s.lease_as(service, "conv", 0);
  REQUIRE(any.size() == 2);
  CHECK(any[0].task_id() == a1.id());
  CHECK(any[1].task_id() == a2.id());
  // So does an admin.
  auto a3 = s.create_as(alice, R"({"task_type":"conv"})");
  auto by_admin = s.lease_as(s.admin, "conv", 0);
  REQUIRE(by_admin.size() == 1);
  CHECK(by_admin[0].task_id() == a3.id());
}

TEST_CASE("heartbeat, complete and fail need the token that took the lease") {
  scheduler s;
  auto alice = signed_token("alice");
  auto service = signed_token("svc", "worker");
  auto t = s.create_as(alice, R"({"task_type":"own","retry_policy":{"max_retries":0}})");
  auto leases = s.lease_as(alice, "own", 0);
  REQUIRE(leases.size() == 1);
  auto lease = leases[0];
  auto on_lease = "/api/v1/leases/" + lease.lease_id();
  for (auto& other : {signed_token("bob"), service, s.admin, signed_token("alice2")}) {
    for (auto verb : {"heartbeat", "complete", "fail"}) {
      auto res = s.call_as(other, "POST", on_lease + "/" + verb,
                           std::string{verb} == "fail" ? R"({"error":"forged"})"
                                                       : R"({"result":"forged"})");
      INFO(verb << ": " << res.body);
      CHECK(res.status == 404);
    }
    auto batch = s.call_as(other, "POST", "/api/v1/leases/complete",
                           R"({"completions":[{"lease_id":")" + lease.lease_id()
                             + R"(","result":"forged"}]})");
    CHECK(batch.body.find(R"("code":"not_found")") != std::string::npos);
  }
  // The real worker's lease is untouched: it heartbeats and completes with its own result.
  CHECK(s.call_as(alice, "POST", on_lease + "/heartbeat").status == 200);
  auto done = s.call_as(alice, "POST", on_lease + "/complete", R"({"result":"real"})");
  INFO(done.body);
  CHECK(done.status == 200);
  auto after = s.get_as(alice, t.id());
  CHECK(after.status() == pb::Task::COMPLETED);
  CHECK(after.result().string_value() == "real");
  // A worker-role lease is bound to the service account in the same way.
  auto t2 = s.create_as(alice, R"({"task_type":"own"})");
  auto svc_lease = s.lease_as(service, "own", 0);
  REQUIRE(svc_lease.size() == 1);
  auto svc_path = "/api/v1/leases/" + svc_lease[0].lease_id();
  CHECK(s.call_as(alice, "POST", svc_path + "/complete").status == 404);
  CHECK(s.call_as(service, "POST", svc_path + "/fail", R"({"error":"real failure"})").status
        == 200);
  CHECK(s.get_as(alice, t2.id()).last_error() == "real failure");
}

TEST_CASE("http and push are reserved to admins and the node: users get 403") {
  scheduler s({allow_loopback});
  auto alice = signed_token("alice");
  auto worker = signed_token("svc", "worker");
  for (auto& who : {alice, worker}) {
    for (auto type : {"http", "push"}) {
      auto res = s.call_as(who, "POST", "/api/v1/tasks",
                           R"({"task_type":")" + std::string{type}
                             + R"(","payload":{"url":"http://127.0.0.1:1/","user_id":"bob"}})");
      INFO(res.body);
      CHECK(res.status == 403);
      CHECK(res.body.find("\"forbidden\"") != std::string::npos);
    }
  }
  CHECK(s.list("task_type=push").tasks_size() == 0);
  auto push = s.create_as(s.admin, R"({"task_type":"push","payload":{"user_id":"bob","count":1}})");
  s.wait_admin(push.id(), [](auto& t) { return t.status() == pb::Task::COMPLETED; });
}

TEST_CASE("a chat push keeps no message text once delivered, and users never see pushes") {
  scheduler s;
  {
    chat_client alice{s.node, "alice"};
    alice.call(R"({"request_id":"1","send":{"to_user":"bob","client_msg_id":"m1","body":"the secret plan"}})");
  }
  // Delivered to the provider (push.jsonl) with the preview...
  std::string line;
  for (int i = 0; i < 250 && line.empty(); ++i) {
    std::ifstream in{s.node.data_dir + "/push.jsonl"};
    std::getline(in, line);
    if (line.empty())
      std::this_thread::sleep_for(20ms);
  }
  REQUIRE_FALSE(line.empty());
  CHECK(line.find(R"("preview":"the secret plan")") != std::string::npos);
  // ...but the task record forgets it as soon as the push is over.
  auto admin_list = [&] {
    auto res = s.call_as(s.admin, "GET", "/api/v1/tasks?task_type=push");
    return parse_json<pb::TaskList>(res.body);
  };
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (admin_list().tasks_size() != 1 || admin_list().tasks(0).status() != pb::Task::COMPLETED) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(20ms);
  }
  auto push = admin_list().tasks(0);
  auto& fields = push.payload().struct_value().fields();
  CHECK(fields.count("preview") == 0);
  CHECK(fields.at("user_id").string_value() == "bob");
  CHECK(fields.at("conversation_id").string_value() == "d:alice:bob");
  CHECK(fields.at("sender_id").string_value() == "alice");
  auto raw = s.call_as(s.admin, "GET", "/api/v1/tasks/" + push.id());
  CHECK(raw.body.find("secret plan") == std::string::npos);
  // Neither the sender, the recipient nor anyone else lists or reads it.
  for (auto user : {"alice", "bob", "mallory"}) {
    auto token = signed_token(user);
    auto res = s.call_as(token, "GET", "/api/v1/tasks?task_type=push");
    CHECK(parse_json<pb::TaskList>(res.body).tasks_size() == 0);
    CHECK(s.call_as(token, "GET", "/api/v1/tasks/" + push.id()).status == 404);
  }
}

TEST_CASE("a push that dies or is cancelled keeps no message text either") {
  // A provider nobody listens on: every delivery fails.
  scheduler s({"tasks.push_url=http://127.0.0.1:1/push"});
  auto dies = s.create_as(s.admin, R"({"task_type":"push","retry_policy":{"max_retries":0},)"
                                   R"("payload":{"user_id":"bob","preview":"secret one"}})");
  auto dead = s.wait_admin(dies.id(), [](auto& t) { return t.status() == pb::Task::DEAD; });
  CHECK(dead.payload().struct_value().fields().count("preview") == 0);
  CHECK(dead.payload().struct_value().fields().at("user_id").string_value() == "bob");
  auto later = s.create_as(s.admin, R"({"task_type":"push","schedule":{"type":"delayed","run_at":")"
                                    + rfc3339(unix_ms() + 600000)
                                    + R"("},"payload":{"user_id":"bob","preview":"secret two"}})");
  CHECK(later.payload().struct_value().fields().at("preview").string_value() == "secret two");
  auto cancelled = s.call_as(s.admin, "DELETE", "/api/v1/tasks/" + later.id());
  INFO(cancelled.body);
  CHECK(cancelled.status == 200);
  CHECK(cancelled.body.find("secret") == std::string::npos);
  CHECK(s.call_as(s.admin, "GET", "/api/v1/tasks/" + later.id()).body.find("secret")
        == std::string::npos);
}

// -- the http task's destinations ----------------------------------------------------------------

TEST_CASE("http tasks reach nothing while tasks.http_allow is empty") {
  scheduler s;
  target_server target{http_answer(200, "OK", "{}")};
  auto t = s.create_as(s.admin, http_task("http://127.0.0.1:" + std::to_string(target.port()) + "/", 3));
  auto dead = s.wait_admin(t.id(), [](auto& x) { return x.status() == pb::Task::DEAD; });
  CHECK(dead.attempt() == 1);  // not retried: it can never work
  CHECK(dead.last_error().find("tasks.http_allow is empty") != std::string::npos);
  CHECK(target.connections() == 0);
}

TEST_CASE("loopback, private, link-local and metadata destinations are refused after resolution") {
  // "*" admits any host name, but never an inner address.
  scheduler s({R"(tasks.http_allow=["*"])"});
  target_server target{http_answer(200, "OK", "{}")};
  auto port = std::to_string(target.port());
  for (auto [url, kind] : std::vector<std::pair<std::string, std::string>>{
         {"http://127.0.0.1:" + port + "/", "loopback"},
         {"http://localhost:" + port + "/", "loopback"},  // a name that resolves inside
         {"http://[::1]:" + port + "/", "loopback"},
         {"http://[::ffff:127.0.0.1]:" + port + "/", "loopback"},
         {"http://10.1.2.3/", "private"},
         {"http://192.168.0.1/", "private"},
         {"http://169.254.169.254/latest/meta-data/", "link-local"},
         {"http://100.64.0.1/", "CGNAT"},
         {"http://0.0.0.0:" + port + "/", "unspecified"},
         {"http://[fd00:ec2::254]/", "private"},
         {"http://224.0.0.1/", "multicast"}}) {
    auto t = s.create_as(s.admin, http_task(url, 3));
    auto dead = s.wait_admin(t.id(), [](auto& x) { return x.status() == pb::Task::DEAD; });
    INFO(url << ": " << dead.last_error());
    CHECK(dead.attempt() == 1);
    CHECK(dead.last_error().find(kind) != std::string::npos);
    CHECK(dead.last_error().find("tasks.http_allow") != std::string::npos);
  }
  CHECK(target.connections() == 0);
}

TEST_CASE("an allowed address is reached with the port in Host, and its answer body is capped") {
  auto big = std::string(10000, 'x');
  target_server target{http_answer(200, "OK", big)};
  scheduler s({allow_loopback, "tasks.http_max_response_bytes=100"});
  auto url = "http://127.0.0.1:" + std::to_string(target.port()) + "/hook?a=1";
  auto t = s.create_as(s.admin, http_task(url));
  auto done = s.wait_admin(t.id(), [](auto& x) { return x.status() == pb::Task::COMPLETED; });
  auto requests = target.wait_requests(1);
  INFO(requests[0]);
  CHECK(requests[0].rfind("POST /hook?a=1 HTTP/1.1\r\n", 0) == 0);
  CHECK(requests[0].find("\r\nHost: 127.0.0.1:" + std::to_string(target.port()) + "\r\n")
        != std::string::npos);
  CHECK(requests[0].find("X-Parley-Task-Id: " + t.id()) != std::string::npos);
  auto& result = done.result().struct_value().fields();
  CHECK(result.at("status").number_value() == 200);
  CHECK(result.at("body").string_value() == std::string(100, 'x'));
  // Another loopback address than the listed one is still refused.
  auto other = s.create_as(s.admin, http_task("http://127.0.0.2:" + std::to_string(target.port()) + "/"));
  auto dead = s.wait_admin(other.id(), [](auto& x) { return x.status() == pb::Task::DEAD; });
  CHECK(dead.last_error().find("loopback") != std::string::npos);
  CHECK(target.requests().size() == 1);
}

TEST_CASE("a name is resolved once and reached at the addresses that were checked") {
  target_server target{http_answer(204, "No Content", "")};
  auto port = std::to_string(target.port());
  // localhost resolves to loopback addresses: listing them (not the name) admits it.
  scheduler s({R"(tasks.http_allow=["127.0.0.1", "::1"])"});
  auto t = s.create_as(s.admin, http_task("http://localhost:" + port + "/named"));
  s.wait_admin(t.id(), [](auto& x) { return x.status() == pb::Task::COMPLETED; });
  auto requests = target.wait_requests(1);
  CHECK(requests[0].find("\r\nHost: localhost:" + port + "\r\n") != std::string::npos);
  // Listing the name alone does not admit the loopback addresses it resolves to.
  scheduler named({R"(tasks.http_allow=["localhost"])"});
  auto refused = named.create_as(named.admin, http_task("http://localhost:" + port + "/"));
  auto dead = named.wait_admin(refused.id(), [](auto& x) { return x.status() == pb::Task::DEAD; });
  CHECK(dead.last_error().find("loopback") != std::string::npos);
  CHECK(target.requests().size() == 1);
}

TEST_CASE("redirects are not followed, so they cannot lead to a refused address") {
  target_server inner{http_answer(200, "OK", "internal secrets"), "127.0.0.2"};
  auto location = "http://127.0.0.2:" + std::to_string(inner.port()) + "/admin";
  target_server outer{http_answer(302, "Found", "", "Location: " + location + "\r\n")};
  scheduler s({allow_loopback});
  auto t = s.create_as(s.admin, http_task("http://127.0.0.1:" + std::to_string(outer.port()) + "/"));
  auto dead = s.wait_admin(t.id(), [](auto& x) { return x.status() == pb::Task::DEAD; });
  CHECK(dead.last_error().find("HTTP 302") == 0);
  CHECK(outer.requests().size() == 1);
  CHECK(inner.connections() == 0);
  CHECK(dead.result().has_null_value());
}

TEST_CASE("http targets that never answer do not delay pushes, and time out per config") {
  target_server silent{""};
  scheduler s({allow_loopback, "tasks.http_workers=2", "tasks.push_workers=1",
               "tasks.http_timeout_ms=5000"});
  std::vector<std::string> hanging;
  for (int i = 0; i < 4; ++i)
    hanging.push_back(s.create_as(s.admin, R"({"task_type":"http","timeout_sec":120,)"
                                           R"("retry_policy":{"max_retries":0},"payload":{"url":"http://127.0.0.1:)"
                                           + std::to_string(silent.port()) + R"(/"}})").id());
  silent.wait_requests(2);  // both http workers now hang on it
  auto started = std::chrono::steady_clock::now();
  auto push = s.create_as(s.admin, R"({"task_type":"push","payload":{"user_id":"bob","count":1}})");
  // Well before the hanging exchanges time out (5 s), which a shared pool would wait for.
  s.wait_admin(push.id(), [](auto& t) { return t.status() == pb::Task::COMPLETED; }, 3s);
  CHECK(std::chrono::steady_clock::now() - started < 2500ms);
  size_t running = 0;
  for (auto& id : hanging)
    running += s.get_as(s.admin, id).status() == pb::Task::RUNNING;
  CHECK(running == 2);
  // tasks.http_timeout_ms ends each hanging exchange long before the task's 120 s timeout.
  auto dead = s.wait_admin(hanging[0], [](auto& t) { return t.status() == pb::Task::DEAD; }, 15s);
  CHECK(dead.last_error() == "timed out after 5000 ms");
}

// -- limits ------------------------------------------------------------------------------------------

TEST_CASE("a user's unfinished tasks are capped by tasks.max_waiting_per_owner") {
  scheduler s({"tasks.max_waiting_per_owner=3"});
  auto alice = signed_token("alice");
  auto bob = signed_token("bob");
  auto first = s.create_as(alice, R"({"task_type":"cap","idempotency_key":"one"})");
  auto second = s.create_as(alice, R"({"task_type":"cap"})");
  s.create_as(alice, R"({"task_type":"cap","schedule":{"type":"delayed","run_at":")"
                       + rfc3339(unix_ms() + 600000) + R"("}})");
  auto over = s.call_as(alice, "POST", "/api/v1/tasks", R"({"task_type":"cap"})");
  INFO(over.body);
  CHECK(over.status == 429);
  CHECK(over.body.find(R"("code":"rate_limited")") != std::string::npos);
  CHECK(over.body.find("tasks.max_waiting_per_owner") != std::string::npos);
  CHECK(over.body.find("retry_after_ms") != std::string::npos);
  CHECK(over.headers.count("retry-after") == 1);
  // A repeated key still answers the existing task; other users are not affected.
  CHECK(s.create_as(alice, R"({"task_type":"cap","idempotency_key":"one"})", 200).id() == first.id());
  s.create_as(bob, R"({"task_type":"cap"})");
  // A finished task frees its place.
  auto leases = s.lease_as(alice, "cap", 0, 1);
  REQUIRE(leases.size() == 1);
  CHECK(s.call_as(alice, "POST", "/api/v1/leases/" + leases[0].lease_id() + "/complete").status
        == 200);
  s.create_as(alice, R"({"task_type":"cap"})");
  CHECK(s.call_as(alice, "POST", "/api/v1/tasks", R"({"task_type":"cap"})").status == 429);
  // Cancelling frees one too.
  CHECK(s.call_as(alice, "DELETE", "/api/v1/tasks/" + second.id()).status == 200);
  s.create_as(alice, R"({"task_type":"cap"})");
}

TEST_CASE("the limit on unfinished tasks counts what was stored before a restart") {
  temp_dir dir;
  auto alice = signed_token("alice");
  {
    scheduler s({"storage.data_dir=" + dir.path(), "tasks.max_waiting_per_owner=2"});
    s.create_as(alice, R"({"task_type":"cap"})");
    s.create_as(alice, R"({"task_type":"cap"})");
  }
  scheduler s({"storage.data_dir=" + dir.path(), "tasks.max_waiting_per_owner=2"});
  CHECK(s.call_as(alice, "POST", "/api/v1/tasks", R"({"task_type":"cap"})").status == 429);
}

TEST_CASE("payloads beyond the memory budget are read from storage when they are needed") {
  // A budget smaller than one payload: every due task is held without its payload.
  scheduler s({"tasks.max_memory_payload_bytes=100"});
  auto blob = std::string(2000, 'p');
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i)
    ids.push_back(s.create(R"({"task_type":"big","payload":{"n":)" + std::to_string(i)
                           + R"(,"blob":")" + blob + R"("}})").id());
  auto soon = s.create(R"({"task_type":"big","schedule":{"type":"delayed","run_at":")"
                       + rfc3339(unix_ms() + 1000) + R"("},"payload":{"blob":")" + blob + R"("}})");
  // Answers show the payload all the same.
  auto paused = s.call("PATCH", "/api/v1/tasks/" + ids[2] + "/pause");
  CHECK(parse_json<pb::Task>(paused.body).payload().struct_value().fields().at("blob").string_value()
        == blob);
  auto leases = s.lease("big", 2);
  REQUIRE(leases.size() == 2);
  for (auto& l : leases)
    CHECK(l.payload().struct_value().fields().at("blob").string_value() == blob);
  s.complete(leases[0]);
  auto late = s.lease_one("big", 5000);  // the delayed one, loaded into the window meanwhile
  CHECK(late.task_id() == soon.id());
  CHECK(late.payload().struct_value().fields().at("blob").string_value() == blob);
  // The stored records keep their payloads through every rewrite.
  for (auto& id : {ids[0], ids[2], soon.id()})
    CHECK(s.get(id).payload().struct_value().fields().at("blob").string_value() == blob);
  // Memory held none of them.
  auto held = metric_value(s.node, "parley_task_payload_bytes_held");
  CHECK(held >= 0);
  CHECK(held <= 100);
}

TEST_CASE("payloads within the memory budget are held, and counted, until the task leaves memory") {
  scheduler s;
  auto t = s.create(R"({"task_type":"small","payload":{"blob":")" + std::string(500, 's') + R"("}})");
  CHECK(metric_value(s.node, "parley_task_payload_bytes_held") > 500);
  s.complete(s.lease_one("small"));
  // Finished and evicted: nothing held any more.
  auto deadline = std::chrono::steady_clock::now() + 5s;
  while (metric_value(s.node, "parley_task_payload_bytes_held") != 0) {
    REQUIRE(std::chrono::steady_clock::now() < deadline);
    std::this_thread::sleep_for(20ms);
  }
  CHECK(s.get(t.id()).payload().struct_value().fields().at("blob").string_value().size() == 500);
}
