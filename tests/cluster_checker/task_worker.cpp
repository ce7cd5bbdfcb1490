#include "cluster_checker/task_worker.hpp"

#include "proto/parley.pb.h"
#include "support/test_client.hpp"

#include <google/protobuf/util/json_util.h>

#include <exception>

namespace parley::test {

task_worker::task_worker(const node_directory& nodes, task_worker_options opts)
  : nodes_(nodes), opts_(std::move(opts)), rng_(opts_.seed), thread_([this] { run(); }) {}

task_worker::~task_worker() {
  stop();
}

void task_worker::stop() {
  stopping_ = true;
  if (thread_.joinable())
    thread_.join();
}

http_result task_worker::call(const std::string& method, const std::string& target,
                              const std::string& body) {
  auto at = nodes_.at(opts_.node);
  try {
    return http_call(at.host, at.port, method, target, body,
                     {{"Authorization", "Bearer " + opts_.token}});
  } catch (const std::exception&) {
    return {};  // refused, reset or timed out: the call may or may not have taken effect
  }
}

void task_worker::run() {
  while (!stopping_) {
    if (!pending_.empty() && rng_() % 3 == 0) {
      auto key = pending_.front();
      pending_.pop_front();
      create(key, true);
    } else {
      create(opts_.name + "-" + std::to_string(next_key_++), false);
    }
    lease_and_complete();
    // A worker's polling rhythm, not a wait for a condition.
    std::this_thread::sleep_for(opts_.pace);
  }
}

void task_worker::create(const std::string& key, bool retry) {
  task_op op;
  op.what = task_op::kind::create;
  op.node = opts_.node;
  op.key = key;
  op.retry = retry;
  op.sent = std::chrono::steady_clock::now();
  // No backoff between attempts: a lease lost with a fault comes back at once.
  auto res = call("POST", "/api/v1/tasks",
                  R"({"task_type":")" + opts_.task_type + R"(","payload":{"key":")" + key
                    + R"("},"retry_policy":{"max_retries":100,"backoff":"fixed",)"
                      R"("initial_delay_sec":0},"idempotency_key":")" + key + R"("})");
  op.answered = std::chrono::steady_clock::now();
  op.status = res.status;
  pb::Task task;
  if ((res.status == 200 || res.status == 201)
      && google::protobuf::util::JsonStringToMessage(res.body, &task).ok()) {
    op.result = task_op::outcome::ok;
    op.task_id = task.id();
  } else {
    op.result = res.status == 0 ? task_op::outcome::timeout : task_op::outcome::error;
    pending_.push_back(key);
    if (pending_.size() > opts_.max_pending)
      pending_.pop_front();  // given up: the task may or may not exist
  }
  ops_.push_back(std::move(op));
}

void task_worker::lease_and_complete() {
  task_op lease;
  lease.what = task_op::kind::lease;
  lease.node = opts_.node;
  lease.sent = std::chrono::steady_clock::now();
  auto res = call("POST", "/api/v1/leases",
                  R"({"worker_id":")" + opts_.name + R"(","task_types":[")" + opts_.task_type
                    + R"("],"max_tasks":4,"lease_sec":)" + std::to_string(opts_.lease_sec)
                    + R"(,"wait_ms":0})");
  lease.answered = std::chrono::steady_clock::now();
  lease.status = res.status;
  pb::LeaseResponse page;
  if (res.status != 200 || !google::protobuf::util::JsonStringToMessage(res.body, &page).ok()) {
    lease.result = res.status == 0 ? task_op::outcome::timeout : task_op::outcome::error;
    ops_.push_back(lease);
    return;
  }
  lease.result = task_op::outcome::ok;
  if (page.leases().empty())
    ops_.push_back(lease);
  for (auto& l : page.leases()) {
    auto granted = lease;
    granted.task_id = l.task_id();
    granted.lease_id = l.lease_id();
    ops_.push_back(granted);
  }
  for (auto& l : page.leases()) {
    task_op done;
    done.what = task_op::kind::complete;
    done.node = opts_.node;
    done.task_id = l.task_id();
    done.lease_id = l.lease_id();
    done.sent = std::chrono::steady_clock::now();
    auto answer = call("POST", "/api/v1/leases/" + l.lease_id() + "/complete",
                       R"({"result":{"by":")" + opts_.name + R"("}})");
    done.answered = std::chrono::steady_clock::now();
    done.status = answer.status;
    done.result = answer.status == 200 ? task_op::outcome::ok
                  : answer.status == 0 ? task_op::outcome::timeout
                                       : task_op::outcome::error;
    ops_.push_back(std::move(done));
  }
}

} // namespace parley::test
