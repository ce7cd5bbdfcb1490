// tasks_load: task scheduler load against a running parleyd over HTTP (durability on).
//
//   tasks_load --url http://127.0.0.1:8080 (--token T | --dev-user bench) --phase P [options]
//
// Phases, each with progress on stderr every second and, on stdout, one readable line and one
// `RESULT <phase> key=value ...` line for scripts (bench/tasks.sh):
//   create    --count N tasks of type "bench" (immediate, small payload) from --connections
//             keep-alive connections, one request in flight each: tasks/s, latency p50/p99
//   cycle     --workers threads, each: POST /api/v1/leases {max_tasks: --batch, lease_sec 60,
//             wait_ms 1000} for "bench", then POST .../complete for every lease over
//             --complete-conns connections at once (a worker running its batch in parallel),
//             until --count completes or a lease request comes back empty: completes/s
//   lateness  --count delayed tasks of type "late" due within one second (--spread-ms, 0 for
//             all at the same instant) starting at a whole second at least --lead-sec ahead,
//             while --workers threads long-poll leases (max_tasks 100, wait_ms 10000);
//             lateness = arrival of the lease response - the task's run_at (same machine,
//             same clock): p50/p99/max. Leases are completed by a separate thread.
// Exit status: 0; 1 when requests failed or tasks went missing; 2 usage; 3 when the server
// refuses the task endpoints (404: no scheduler; 401/403: token).
#include "net/client/http_client.hpp"
#include "tools/dev_token.hpp"
#include "tools/json_scan.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

using namespace parley::net::client;
using namespace parley::tools;
using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct target_server {
  http_url url;
  std::string token;

  http_client_options options() const {
    http_client_options o;
    o.token = token;
    return o;
  }
};

int64_t unix_ms() {
  return std::chrono::duration_cast<milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

double ms_since(steady::time_point t) {
  return std::chrono::duration<double, std::milli>(steady::now() - t).count();
}

// RFC 3339 UTC with milliseconds, as google.protobuf.Timestamp is written in JSON.
std::string rfc3339(int64_t ms) {
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[80];
  std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<int>(ms % 1000));
  return buf;
}

double percentile(std::vector<double>& v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[static_cast<size_t>(p * static_cast<double>(v.size() - 1))];
}

// Answers that mean the server cannot run this benchmark at all: exit 3 with the reason.
void exit_if_refused(const http_response& res, const char* what) {
  if (!res.ok() || (res.status != 404 && res.status != 401 && res.status != 403 &&
                    res.status != 405))
    return;
  std::fprintf(stderr, "tasks_load: %s answered %s\n", what, res.describe().c_str());
  if (res.status == 404 || res.status == 405)
    std::fprintf(stderr, "tasks_load: this parleyd has no task scheduler endpoints\n");
  else
    std::fprintf(stderr, "tasks_load: the token was refused\n");
  std::fflush(stderr);
  std::_Exit(3);
}

// Prints `line()` to stderr every second from its own thread while alive.
class progress {
public:
  explicit progress(std::function<std::string(double)> line)
    : line_(std::move(line)), thread_([this] { loop(); }) {}
  ~progress() {
    {
      std::lock_guard lock{mutex_};
      done_ = true;
    }
    cv_.notify_all();
    thread_.join();
  }

private:
  void loop() {
    auto start = steady::now();
    std::unique_lock lock{mutex_};
    for (int s = 1;; ++s) {
      if (cv_.wait_until(lock, start + std::chrono::seconds{s}, [this] { return done_; }))
        return;
      std::fprintf(stderr, "  %s\n", line_(ms_since(start) / 1000).c_str());
    }
  }

  std::function<std::string(double)> line_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool done_ = false;
  std::thread thread_;
};

std::string fmt(const char* format, ...) __attribute__((format(printf, 1, 2)));
std::string fmt(const char* format, ...) {
  char buf[512];
  va_list args;
  va_start(args, format);
  std::vsnprintf(buf, sizeof buf, format, args);
  va_end(args);
  return buf;
}

// -- create ------------------------------------------------------------------------------------

struct create_result {
  uint64_t created = 0;
  uint64_t errors = 0;
  double seconds = 0;
  std::vector<double> latency_ms;
};

// POSTs `count` tasks (bodies from `body(i)`) over `connections` connections.
create_result create_tasks(const target_server& srv, uint64_t count, int connections,
                           const std::function<std::string(uint64_t)>& body, const char* label) {
  std::atomic<uint64_t> next{0}, created{0}, errors{0};
  std::atomic<bool> stop{false};
  std::mutex merge;
  create_result out;
  auto start = steady::now();
  {
    progress p{[&](double secs) {
      return fmt("%s: %.0f s, %llu/%llu created, %.0f/s, %llu errors", label, secs,
                 static_cast<unsigned long long>(created.load()),
                 static_cast<unsigned long long>(count), created.load() / secs,
                 static_cast<unsigned long long>(errors.load()));
    }};
    std::vector<std::thread> threads;
    for (int c = 0; c < connections; ++c)
      threads.emplace_back([&] {
        http_client client{srv.url, srv.options()};
        std::vector<double> lat;
        lat.reserve(count / connections + 1);
        for (uint64_t i; !stop && (i = next++) < count;) {
          auto res = client.post("/api/v1/tasks", body(i));
          if (res.status == 201 || res.status == 200) {
            ++created;
            lat.push_back(static_cast<double>(res.elapsed.count()) / 1000);
            continue;
          }
          exit_if_refused(res, "POST /api/v1/tasks");
          if (errors++ < 5)
            std::fprintf(stderr, "  %s: POST /api/v1/tasks: %s\n", label, res.describe().c_str());
          if (errors > 1000)
            stop = true;  // the numbers would mean nothing
        }
        std::lock_guard lock{merge};
        out.latency_ms.insert(out.latency_ms.end(), lat.begin(), lat.end());
      });
    for (auto& t : threads)
      t.join();
  }
  out.seconds = ms_since(start) / 1000;
  out.created = created;
  out.errors = errors;
  return out;
}

int phase_create(const target_server& srv, uint64_t count, int connections) {
  auto r = create_tasks(
    srv, count, connections,
    [](uint64_t i) {
      return "{\"task_type\":\"bench\",\"payload\":{\"n\":" + std::to_string(i) + "}}";
    },
    "create");
  auto rate = r.created / r.seconds;
  auto p50 = percentile(r.latency_ms, 0.5), p99 = percentile(r.latency_ms, 0.99);
  std::printf("create: %llu tasks in %.2f s over %d connections: %.0f tasks/s, p50 %.2f ms, "
              "p99 %.2f ms, %llu errors\n",
              static_cast<unsigned long long>(r.created), r.seconds, connections, rate, p50, p99,
              static_cast<unsigned long long>(r.errors));
  std::printf("RESULT create tasks=%llu seconds=%.3f tasks_per_s=%.0f p50_ms=%.3f p99_ms=%.3f "
              "errors=%llu connections=%d\n",
              static_cast<unsigned long long>(r.created), r.seconds, rate, p50, p99,
              static_cast<unsigned long long>(r.errors), connections);
  return r.errors == 0 && r.created == count ? 0 : 1;
}

// -- cycle -------------------------------------------------------------------------------------

std::string lease_body(const std::string& worker_id, const char* type, int max_tasks,
                       int wait_ms) {
  return fmt("{\"worker_id\":\"%s\",\"task_types\":[\"%s\"],\"max_tasks\":%d,\"lease_sec\":60,"
             "\"wait_ms\":%d}",
             worker_id.c_str(), type, max_tasks, wait_ms);
}

std::vector<http_request> complete_requests(const std::vector<std::string_view>& lease_ids) {
  std::vector<http_request> reqs(lease_ids.size());
  for (size_t i = 0; i < lease_ids.size(); ++i) {
    reqs[i].target = "/api/v1/leases/" + url_encode_segment(lease_ids[i]) + "/complete";
    reqs[i].body = "{}";
  }
  return reqs;
}

// One POST /api/v1/leases/complete for a whole batch (an extension of PROTOCOL.md).
std::string batch_complete_body(const std::vector<std::string_view>& lease_ids) {
  std::string body = "{\"completions\":[";
  for (size_t i = 0; i < lease_ids.size(); ++i) {
    body += i ? ",{\"lease_id\":\"" : "{\"lease_id\":\"";
    body.append(lease_ids[i]);
    body += "\"}";
  }
  body += "]}";
  return body;
}

int phase_cycle(const target_server& srv, uint64_t count, int workers, int batch,
                int complete_conns, bool complete_batch) {
  std::atomic<uint64_t> leased{0}, completed{0}, conflicts{0}, errors{0};
  std::atomic<bool> stop{false};
  std::atomic<int64_t> last_complete_ns{0};
  std::mutex merge;
  std::vector<double> lease_lat, complete_lat;
  auto start = steady::now();
  {
    progress p{[&](double secs) {
      return fmt("cycle: %.0f s, %llu leased, %llu completed, %.0f/s", secs,
                 static_cast<unsigned long long>(leased.load()),
                 static_cast<unsigned long long>(completed.load()), completed.load() / secs);
    }};
    std::vector<std::thread> threads;
    for (int w = 0; w < workers; ++w)
      threads.emplace_back([&, w] {
        http_client lease_client{srv.url, srv.options()};
        http_batch completer{srv.url, srv.options(), static_cast<size_t>(complete_conns)};
        auto body = lease_body("bench-worker-" + std::to_string(w), "bench", batch, 1000);
        std::vector<double> my_lease_lat, my_complete_lat;
        while (!stop && completed < count) {
          auto res = lease_client.post("/api/v1/leases", body, milliseconds{30000});
          if (!res.success()) {
            exit_if_refused(res, "POST /api/v1/leases");
            if (errors++ < 5)
              std::fprintf(stderr, "  cycle: POST /api/v1/leases: %s\n", res.describe().c_str());
            if (errors > 100)
              stop = true;
            continue;
          }
          auto ids = json_strings(res.body, "lease_id");
          if (ids.empty())
            break;  // nothing due within wait_ms: the queue is empty
          my_lease_lat.push_back(static_cast<double>(res.elapsed.count()) / 1000);
          leased += ids.size();
          if (complete_batch) {
            auto a = lease_client.post("/api/v1/leases/complete", batch_complete_body(ids),
                                       milliseconds{30000});
            if (a.success()) {
              for (auto status : json_strings(a.body, "status")) {
                if (status == "COMPLETED")
                  ++completed;
                else
                  ++conflicts;
              }
              my_complete_lat.push_back(static_cast<double>(a.elapsed.count()) / 1000);
            } else if (errors++ < 5) {
              std::fprintf(stderr, "  cycle: batch complete: %s\n", a.describe().c_str());
            }
            auto at = (steady::now() - start).count();
            auto prev = last_complete_ns.load();
            while (prev < at && !last_complete_ns.compare_exchange_weak(prev, at)) {
            }
            continue;
          }
          auto answers = completer.run(complete_requests(ids));
          auto done_at = (steady::now() - start).count();
          for (auto& a : answers) {
            if (a.success()) {
              ++completed;
              my_complete_lat.push_back(static_cast<double>(a.elapsed.count()) / 1000);
            } else if (a.ok() && a.status == 409) {
              ++conflicts;
            } else if (errors++ < 5) {
              std::fprintf(stderr, "  cycle: complete: %s\n", a.describe().c_str());
            }
          }
          auto prev = last_complete_ns.load();
          while (prev < done_at && !last_complete_ns.compare_exchange_weak(prev, done_at)) {
          }
        }
        std::lock_guard lock{merge};
        lease_lat.insert(lease_lat.end(), my_lease_lat.begin(), my_lease_lat.end());
        complete_lat.insert(complete_lat.end(), my_complete_lat.begin(), my_complete_lat.end());
      });
    for (auto& t : threads)
      t.join();
  }
  if (completed == 0) {
    std::fprintf(stderr, "tasks_load: nothing was leased: run the create phase first\n");
    return 1;
  }
  // Up to the last complete: the final empty long poll of each worker is not work.
  auto secs = std::chrono::duration<double>(steady::duration{last_complete_ns.load()}).count();
  auto rate = completed / secs;
  auto lp50 = percentile(lease_lat, 0.5), lp99 = percentile(lease_lat, 0.99);
  auto cp50 = percentile(complete_lat, 0.5), cp99 = percentile(complete_lat, 0.99);
  std::printf("cycle: %llu lease+complete in %.2f s (%d workers, max_tasks %d, %d completes in "
              "flight each): %.0f completes/s; lease p50 %.2f / p99 %.2f ms, complete p50 %.2f / "
              "p99 %.2f ms, %llu conflicts, %llu errors\n",
              static_cast<unsigned long long>(completed.load()), secs, workers, batch,
              complete_conns, rate, lp50, lp99, cp50, cp99,
              static_cast<unsigned long long>(conflicts.load()),
              static_cast<unsigned long long>(errors.load()));
  std::printf("RESULT %s completes=%llu seconds=%.3f completes_per_s=%.0f leased=%llu "
              "conflicts=%llu errors=%llu workers=%d batch=%d complete_conns=%d lease_p50_ms=%.3f "
              "lease_p99_ms=%.3f complete_p50_ms=%.3f complete_p99_ms=%.3f\n",
              complete_batch ? "cycle_batch" : "cycle",
              static_cast<unsigned long long>(completed.load()), secs, rate,
              static_cast<unsigned long long>(leased.load()),
              static_cast<unsigned long long>(conflicts.load()),
              static_cast<unsigned long long>(errors.load()), workers, batch, complete_conns, lp50,
              lp99, cp50, cp99);
  return errors == 0 && conflicts == 0 ? 0 : 1;
}

// -- lateness ----------------------------------------------------------------------------------

// Completes leases handed over by the lease threads, so that those go straight back to polling.
class completer {
public:
  completer(const target_server& srv, size_t connections)
    : batch_(srv.url, srv.options(), connections), thread_([this] { loop(); }) {}

  void add(const std::vector<std::string_view>& ids) {
    std::lock_guard lock{mutex_};
    for (auto id : ids)
      queue_.emplace_back(id);
    cv_.notify_one();
  }

  // Completes what is queued, then returns.
  void finish() {
    {
      std::lock_guard lock{mutex_};
      done_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

  uint64_t completed() const { return completed_; }
  uint64_t failed() const { return failed_; }

private:
  void loop() {
    std::unique_lock lock{mutex_};
    for (;;) {
      cv_.wait(lock, [this] { return done_ || !queue_.empty(); });
      if (queue_.empty())
        return;
      std::vector<std::string> ids(queue_.begin(), queue_.end());
      queue_.clear();
      lock.unlock();
      std::vector<std::string_view> views(ids.begin(), ids.end());
      for (auto& a : batch_.run(complete_requests(views))) {
        if (a.success()) {
          ++completed_;
        } else if (failed_++ < 5) {
          std::fprintf(stderr, "  lateness: complete: %s\n", a.describe().c_str());
        }
      }
      lock.lock();
    }
  }

  http_batch batch_;
  std::mutex mutex_;
  std::condition_variable cv_;
  std::deque<std::string> queue_;
  bool done_ = false;
  std::atomic<uint64_t> completed_{0}, failed_{0};
  std::thread thread_;
};

int phase_lateness(const target_server& srv, uint64_t count, int workers, int connections,
                   int lead_sec, int spread_ms, int timeout_sec) {
  // The first run_at: a whole second at least lead_sec from now.
  int64_t first_due = (unix_ms() / 1000 + lead_sec + 1) * 1000;
  auto due = [&](uint64_t i) {
    return first_due + static_cast<int64_t>(static_cast<uint64_t>(spread_ms) * i / count);
  };
  std::atomic<uint64_t> received{0}, errors{0};
  // Leases to wait for: `count`, lowered to the tasks actually created.
  std::atomic<uint64_t> expected{count};
  std::atomic<bool> stop{false};
  std::mutex merge;
  std::condition_variable all_in;
  std::vector<double> lateness;
  completer done{srv, 16};

  std::vector<std::thread> threads;
  for (int w = 0; w < workers; ++w)
    threads.emplace_back([&, w] {
      http_client client{srv.url, srv.options()};
      client.set_abort_flag(&stop);
      auto body = lease_body("late-worker-" + std::to_string(w), "late", 100, 10000);
      std::vector<double> mine;
      while (!stop) {
        auto res = client.post("/api/v1/leases", body, milliseconds{40000});
        auto arrived = unix_ms();
        if (!res.success()) {
          if (stop)
            break;
          exit_if_refused(res, "POST /api/v1/leases");
          if (errors++ < 5)
            std::fprintf(stderr, "  lateness: POST /api/v1/leases: %s\n", res.describe().c_str());
          std::this_thread::sleep_for(milliseconds{100});
          continue;
        }
        auto ids = json_strings(res.body, "lease_id");
        for (double d : json_numbers(res.body, "due_ms"))
          mine.push_back(static_cast<double>(arrived) - d);
        done.add(ids);
        if ((received += ids.size()) >= expected) {
          std::lock_guard lock{merge};
          stop = true;
          all_in.notify_all();
        }
      }
      std::lock_guard lock{merge};
      lateness.insert(lateness.end(), mine.begin(), mine.end());
    });

  std::fprintf(stderr, "  lateness: creating %llu tasks due from %s over %d ms\n",
               static_cast<unsigned long long>(count), rfc3339(first_due).c_str(), spread_ms);
  auto created = create_tasks(
    srv, count, connections,
    [&](uint64_t i) {
      auto at = due(i);
      return "{\"task_type\":\"late\",\"payload\":{\"due_ms\":" + std::to_string(at) +
             "},\"schedule\":{\"type\":\"delayed\",\"run_at\":\"" + rfc3339(at) + "\"}}";
    },
    "lateness create");
  expected = created.created;
  auto overrun = unix_ms() - first_due;
  if (overrun > 0)
    std::fprintf(stderr,
                 "  lateness: WARNING: creating took until %lld ms after the first run_at; the "
                 "early tasks' lateness includes it (raise --lead-sec)\n",
                 static_cast<long long>(overrun));
  {
    progress p{[&](double) {
      return fmt("lateness: %llu/%llu leased", static_cast<unsigned long long>(received.load()),
                 static_cast<unsigned long long>(count));
    }};
    auto deadline = std::chrono::system_clock::time_point{milliseconds{first_due + spread_ms}} +
                    std::chrono::seconds{timeout_sec};
    std::unique_lock lock{merge};
    all_in.wait_until(lock, deadline, [&] { return stop || received >= expected; });
    stop = true;
  }
  for (auto& t : threads)
    t.join();
  done.finish();

  auto n = lateness.size();
  auto min = n ? *std::min_element(lateness.begin(), lateness.end()) : 0.0;
  auto p50 = percentile(lateness, 0.5), p99 = percentile(lateness, 0.99);
  auto max = n ? lateness.back() : 0.0;
  std::printf("lateness: %zu of %llu delayed tasks due within %d ms: p50 %.1f ms, p99 %.1f ms, "
              "max %.1f ms, min %.1f ms (%llu completed, %llu errors)\n",
              n, static_cast<unsigned long long>(count), spread_ms, p50, p99, max, min,
              static_cast<unsigned long long>(done.completed()),
              static_cast<unsigned long long>(errors + done.failed()));
  std::printf("RESULT lateness tasks=%llu received=%zu spread_ms=%d p50_ms=%.1f p99_ms=%.1f "
              "max_ms=%.1f min_ms=%.1f create_seconds=%.3f create_overrun_ms=%lld errors=%llu\n",
              static_cast<unsigned long long>(count), n, spread_ms, p50, p99, max, min,
              created.seconds, static_cast<long long>(std::max<int64_t>(overrun, 0)),
              static_cast<unsigned long long>(errors + created.errors + done.failed()));
  bool ok = n == count && created.errors == 0 && errors == 0 && overrun <= 0;
  return ok ? 0 : 1;
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"tasks_load: task scheduler load against a running parleyd"};
  std::string url_text = "http://127.0.0.1:8080", token, dev_user, phase;
  uint64_t count = 0;
  int connections = 16, workers = 8, batch = 100, complete_conns = 4;
  bool complete_batch = false;
  int lead_sec = 5, spread_ms = 1000, timeout_sec = 30;
  app.add_option("--url", url_text, "parleyd base URL")->capture_default_str();
  auto* tok = app.add_option("--token", token, "Bearer token");
  app.add_option("--dev-user", dev_user, "Mint a dev token for this user")->excludes(tok);
  app.add_option("--phase", phase, "create, cycle or lateness")
    ->required()
    ->check(CLI::IsMember({"create", "cycle", "lateness"}));
  app.add_option("--count", count,
                 "Tasks (create: 100000; cycle: completes to stop at, 100000; lateness: 10000)");
  app.add_option("--connections", connections, "Connections creating tasks")
    ->capture_default_str()
    ->check(CLI::Range(1, 1024));
  app.add_option("--workers", workers, "Worker threads leasing (cycle, lateness)")
    ->capture_default_str()
    ->check(CLI::Range(1, 256));
  app.add_option("--batch", batch, "max_tasks per lease request (cycle)")
    ->capture_default_str()
    ->check(CLI::Range(1, 100));
  app.add_flag("--complete-batch", complete_batch,
               "Complete each leased batch with one POST /api/v1/leases/complete (cycle)");
  app.add_option("--complete-conns", complete_conns,
                 "Completes in flight per worker, one connection each (cycle)")
    ->capture_default_str()
    ->check(CLI::Range(1, 100));
  app.add_option("--lead-sec", lead_sec, "Seconds from start to the first run_at (lateness)")
    ->capture_default_str()
    ->check(CLI::Range(1, 600));
  app.add_option("--spread-ms", spread_ms, "run_at spread over this many ms; 0: all identical")
    ->capture_default_str()
    ->check(CLI::Range(0, 60000));
  app.add_option("--timeout-sec", timeout_sec, "Wait after the last run_at for missing leases")
    ->capture_default_str();
  CLI11_PARSE(app, argc, argv);

  target_server srv;
  std::string error;
  if (!parse_http_url(url_text, srv.url, error)) {
    std::fprintf(stderr, "tasks_load: --url: %s\n", error.c_str());
    return 2;
  }
  if (!dev_user.empty()) {
    http_client client{srv.url, {}};
    token = fetch_dev_token(client, dev_user, error);
    if (token.empty()) {
      std::fprintf(stderr, "tasks_load: %s\n", error.c_str());
      return 2;
    }
  }
  if (token.empty()) {
    std::fprintf(stderr, "tasks_load: give --token or --dev-user\n");
    return 2;
  }
  srv.token = token;
  std::setvbuf(stdout, nullptr, _IOLBF, 0);

  if (phase == "create")
    return phase_create(srv, count ? count : 100000, connections);
  if (phase == "cycle")
    return phase_cycle(srv, count ? count : 100000, workers, batch, complete_conns,
                       complete_batch);
  return phase_lateness(srv, count ? count : 10000, workers, connections, lead_sec, spread_ms,
                        timeout_sec);
}
