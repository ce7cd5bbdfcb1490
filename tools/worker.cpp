#include "tools/worker.hpp"

#include "common/utf8.hpp"
#include "net/json_codec.hpp"
#include "proto/parley.pb.h"
#include "tools/command_runner.hpp"

#include <google/protobuf/util/time_util.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <thread>

namespace parley::tools {

namespace {

using steady = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Text stdout becomes {"stdout": ...} cut to this. Default: 64 KiB
constexpr size_t max_stdout_text = size_t{64} << 10;
// Larger stdout is not sent as a JSON result (the server's tasks.max_payload_bytes defaults to
// 256 KiB; a smaller limit answers 413 and the text form is sent instead). Default: 256 KiB
constexpr size_t max_stdout_json = size_t{256} << 10;

bool blank(std::string_view s) {
  return std::all_of(s.begin(), s.end(),
                     [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
}

// What the command's stdout makes of the task's result; false for no result (empty stdout).
// `as_text` skips the JSON form.
bool make_result(const command_result& r, google::protobuf::Value& result, bool as_text) {
  if (blank(r.out))
    return false;
  if (!as_text && !r.out_truncated && r.out.size() <= max_stdout_json &&
      !net::from_json(r.out, result))
    return true;
  result.Clear();
  auto& fields = *result.mutable_struct_value()->mutable_fields();
  // Protobuf strings must be valid UTF-8 and commands print whatever they like.
  fields["stdout"].set_string_value(valid_utf8(r.out, max_stdout_text));
  if (r.out_truncated || r.out.size() > max_stdout_text)
    fields["stdout_truncated"].set_bool_value(true);
  return true;
}

std::string with_line(std::string head, const std::string& line) {
  if (!line.empty())
    head += ": " + line;
  return valid_utf8(head);
}

std::string duration_text(steady::duration d) {
  return std::to_string(std::chrono::duration_cast<milliseconds>(d).count()) + " ms";
}

// Why the worker stopped a command before it ended.
enum class stop_reason { none, cancelled, lease_lost, lease_expired, shutdown };

} // namespace

worker::worker(worker_options opts) : opts_(std::move(opts)) {
  budget_ = opts_.max_tasks == 0 ? 0 : static_cast<int64_t>(opts_.max_tasks);
}

int worker::run() {
  spdlog::info("worker {}: leasing {} from http://{}:{}{}, {} at a time, command: {}",
               opts_.worker_id, fmt_types(), opts_.url.host, opts_.url.port, opts_.url.path,
               opts_.concurrency, opts_.command);
  std::vector<std::thread> slots;
  for (int i = 0; i < opts_.concurrency; ++i)
    slots.emplace_back([this, i] { slot_loop(i); });
  for (auto& t : slots)
    t.join();
  return refused_ ? 1 : 0;
}

std::string worker::fmt_types() const {
  std::string out;
  for (auto& t : opts_.task_types)
    out += (out.empty() ? "" : ",") + t;
  return out;
}

void worker::request_stop() {
  if (stop_leasing_.exchange(true))
    stop_running_ = true;
  std::lock_guard lock{mutex_};
  wake_.notify_all();
}

bool worker::reserve() {
  if (opts_.max_tasks == 0)
    return true;
  auto left = budget_.load();
  while (left > 0)
    if (budget_.compare_exchange_weak(left, left - 1))
      return true;
  return false;
}

void worker::release() {
  if (opts_.max_tasks != 0)
    ++budget_;
}

void worker::pause(milliseconds d) {
  std::unique_lock lock{mutex_};
  wake_.wait_for(lock, d, [this] { return stop_leasing_.load(); });
}

void worker::slot_loop(int slot) {
  http_client_options copts;
  copts.token = opts_.token;
  http_client client{opts_.url, copts};
  pb::LeaseRequest req;
  req.set_worker_id(opts_.worker_id);
  for (auto& t : opts_.task_types)
    req.add_task_types(t);
  req.set_max_tasks(1);
  req.set_lease_sec(opts_.lease_sec);
  req.set_wait_ms(opts_.wait_ms);
  auto body = net::to_json(req);
  // The server answers a long poll after wait_ms at the latest; allow for a slow answer.
  auto timeout = milliseconds{opts_.wait_ms} + std::chrono::seconds{30};
  milliseconds backoff{0};
  std::string last_problem;

  while (!stop_leasing_ && reserve()) {
    client.set_abort_flag(&stop_leasing_);
    auto res = client.post("/api/v1/leases", body, timeout);
    client.set_abort_flag(nullptr);
    if (stop_leasing_ && !res.ok()) {
      release();
      break;
    }
    if (res.ok() && (res.status == 400 || res.status == 401 || res.status == 403 ||
                     res.status == 404)) {
      release();
      // Retrying cannot help: the token, the URL or the flags are wrong.
      spdlog::error("slot {}: POST /api/v1/leases refused: {}{}", slot, res.describe(),
                    res.status == 404 ? " (does this server have the task scheduler?)" : "");
      refused_ = true;
      request_stop();
      break;
    }
    pb::LeaseResponse leases;
    std::string problem;
    if (!res.success()) {
      problem = res.describe();
    } else if (res.status != 204 && !blank(res.body)) {
      if (auto f = net::from_json(res.body, leases))
        problem = "unreadable lease response: " + f.message;
    }
    if (!problem.empty()) {
      release();
      // One line per new kind of problem, not one per retry.
      if (problem != last_problem)
        spdlog::warn("slot {}: lease request failed ({}); retrying", slot, problem);
      last_problem = problem;
      backoff = std::min<milliseconds>(std::max<milliseconds>(backoff * 2, milliseconds{250}),
                                       std::chrono::seconds{10});
      pause(backoff);
      continue;
    }
    if (!last_problem.empty())
      spdlog::info("slot {}: lease requests answered again", slot);
    last_problem.clear();
    backoff = milliseconds{0};
    if (leases.leases_size() == 0) {
      release();
      continue;
    }
    // max_tasks is 1, so there is one; more would still be run rather than left to expire.
    for (int i = 1; i < leases.leases_size(); ++i)
      --budget_;
    for (auto& lease : leases.leases())
      run_lease(client, lease);
  }
}

void worker::run_lease(http_client& client, const pb::Lease& lease) {
  ++running_;
  auto started = steady::now();
  auto lease_path = "/api/v1/leases/" + net::client::url_encode_segment(lease.lease_id());
  auto lease_len = std::chrono::seconds{opts_.lease_sec};
  auto period = std::max<milliseconds>(milliseconds{opts_.lease_sec * 1000 / 3}, milliseconds{200});
  auto next_heartbeat = started + period;
  // The lease runs out this long after its last renewal as this clock sees it (the request
  // time, which is before the server's: never later than the server's view).
  auto lease_until = started + lease_len;
  auto reason = stop_reason::none;
  pb::HeartbeatRequest hb;
  hb.set_lease_sec(opts_.lease_sec);
  auto hb_body = net::to_json(hb);
  auto hb_timeout = std::min<milliseconds>(period, std::chrono::seconds{10});

  auto tick = [&]() -> bool {
    if (stop_running_) {
      reason = stop_reason::shutdown;
      return true;
    }
    auto now = steady::now();
    if (now >= next_heartbeat) {
      auto res = client.post(lease_path + "/heartbeat", hb_body, hb_timeout);
      // 409: the lease is stale; 404: the server does not know it at all.
      if (res.ok() && (res.status == 409 || res.status == 404)) {
        reason = stop_reason::lease_lost;
        return true;
      }
      pb::HeartbeatResponse answer;
      if (res.success() && !net::from_json(res.body, answer)) {
        lease_until = now + lease_len;
        next_heartbeat = now + period;
        if (answer.cancel_requested()) {
          reason = stop_reason::cancelled;
          return true;
        }
      } else {
        spdlog::warn("task {}: heartbeat failed ({}); retrying in 1 s", lease.task_id(),
                     res.describe());
        next_heartbeat = steady::now() + std::chrono::seconds{1};
      }
    }
    if (steady::now() >= lease_until) {
      reason = stop_reason::lease_expired;
      return true;
    }
    return false;
  };

  command_options copts;
  copts.kill_grace = opts_.kill_grace;
  copts.max_stdout_bytes = max_stdout_json + 1;
  copts.env = {"PARLEY_TASK_ID=" + lease.task_id(), "PARLEY_TASK_TYPE=" + lease.task_type(),
               "PARLEY_ATTEMPT=" + std::to_string(lease.attempt()),
               "PARLEY_LEASE_ID=" + lease.lease_id(), "PARLEY_WORKER_ID=" + opts_.worker_id};
  auto input = lease.has_payload() ? net::to_json(lease.payload()) : std::string{"null"};
  auto r = run_command(opts_.command, input, tick, copts);

  // Decide what to report: complete, fail (and whether retryable), or nothing.
  std::string target, body, outcome;
  if (!r.started()) {
    pb::FailRequest f;
    f.set_error(valid_utf8(r.spawn_error));
    f.set_retryable(true);
    target = lease_path + "/fail";
    body = net::to_json(f);
    outcome = "not started (" + r.spawn_error + ")";
  } else if (r.stopped) {
    switch (reason) {
    case stop_reason::lease_lost:
      outcome = "stopped: lease lost (409 on heartbeat)";
      break;
    case stop_reason::lease_expired:
      outcome = "stopped: lease expired without a successful heartbeat";
      break;
    case stop_reason::cancelled: {
      // The task is cancelled; the fail only releases the lease early (a 409 is fine too).
      pb::FailRequest f;
      f.set_error("cancelled while running");
      f.set_retryable(false);
      target = lease_path + "/fail";
      body = net::to_json(f);
      outcome = "stopped: cancelled";
      break;
    }
    case stop_reason::shutdown:
    case stop_reason::none: {
      pb::FailRequest f;
      f.set_error("worker shut down while the command ran");
      f.set_retryable(true);
      target = lease_path + "/fail";
      body = net::to_json(f);
      outcome = "stopped: worker shutting down";
      break;
    }
    }
  } else if (r.succeeded()) {
    pb::CompleteRequest c;
    make_result(r, *c.mutable_result(), false);
    target = lease_path + "/complete";
    body = net::to_json(c);
    outcome = "completed";
  } else {
    pb::FailRequest f;
    bool retryable = true;
    if (r.term_signal != 0) {
      f.set_error(with_line("killed by signal " + std::to_string(r.term_signal) + " (" +
                              strsignal(r.term_signal) + ")",
                            r.last_err_line()));
    } else {
      f.set_error(with_line("exit status " + std::to_string(r.exit_code), r.last_err_line()));
      retryable = r.exit_code != opts_.non_retryable_exit;
    }
    f.set_retryable(retryable);
    target = lease_path + "/fail";
    body = net::to_json(f);
    outcome = "failed (" + f.error() + (retryable ? "" : ", not retryable") + ")";
  }

  if (!target.empty()) {
    auto res = report(client, target, body);
    if (res.ok() && res.status == 413 && r.succeeded()) {
      // The JSON result is over the server's limit: send the cut text form instead.
      pb::CompleteRequest c;
      make_result(r, *c.mutable_result(), true);
      res = report(client, target, net::to_json(c));
      outcome += " (result over the server's limit, sent as cut text)";
    }
    pb::LeaseOutcome after;
    if (res.success()) {
      if (!blank(res.body) && !net::from_json(res.body, after) &&
          after.status() != pb::Task::STATUS_UNSPECIFIED) {
        outcome += " -> " + pb::Task_Status_Name(after.status());
        if (after.has_next_run_at())
          outcome += " at " + google::protobuf::util::TimeUtil::ToString(after.next_run_at());
      }
    } else if (res.ok() && res.status == 409) {
      if (reason != stop_reason::cancelled)
        outcome += ", but the lease was lost: not recorded";
    } else {
      outcome += ", but the report failed (" + res.describe() + "): the lease will expire";
    }
  }
  spdlog::info("task {} attempt {} ({}): {} in {}", lease.task_id(), lease.attempt(),
               lease.task_type(), outcome, duration_text(steady::now() - started));
  --running_;
}

http_response worker::report(http_client& client, const std::string& target,
                             const std::string& body) {
  // A lost report means the work is done again after the lease expires: worth a few tries.
  http_response res;
  milliseconds delay{500};
  for (int attempt = 0; attempt < 4; ++attempt) {
    if (attempt > 0) {
      std::this_thread::sleep_for(delay);
      delay *= 2;
    }
    res = client.post(target, body);
    if (res.ok() && res.status != 429 && res.status < 500)
      return res;
  }
  return res;
}

} // namespace parley::tools
