// The task store keeps its indexes (due, status, finished, owner) in step with every write of a
// task.
#include "storage/task_store.hpp"

#include "common/metrics.hpp"
#include "storage/key_codec.hpp"
#include "support/result_checks.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/message_differencer.h>

using namespace parley;
using namespace parley::storage;
using T = pb::Task;
using parley::test::ok;

namespace {

pb::StoredTask task(const std::string& id, T::Status s, int64_t next_run_at) {
  pb::StoredTask t;
  t.set_id(id);
  t.set_task_type("x");
  t.set_status(s);
  t.set_next_run_at_ms(next_run_at);
  return t;
}

std::vector<std::string> due_ids(const task_store& store, uint32_t shard, int64_t to) {
  std::vector<std::string> out;
  for (auto& e : ok(store.due(shard, 0, {}, to, 100)))
    out.push_back(e.id);
  return out;
}

} // namespace

TEST_CASE("a task moves through the due and status indexes as it changes") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  auto a = task("aaaa", T::PENDING, 5000);
  a.set_idempotency_key("key-a");
  auto b = task("bbbb", T::SCHEDULED, 1000);
  tmp.apply([&](write_set& ws) {
    store.put(ws, 3, nullptr, a);
    store.put(ws, 3, nullptr, b);
  });
  CHECK(due_ids(store, 3, 10000) == std::vector<std::string>{"bbbb", "aaaa"});
  CHECK(due_ids(store, 3, 2000) == std::vector<std::string>{"bbbb"});
  CHECK(due_ids(store, 4, 10000).empty());
  CHECK(ok(store.id_for_key("", "key-a")) == std::string{"aaaa"});
  CHECK(ok(store.ids(T::PENDING, {}, 10)) == std::vector<std::string>{"aaaa"});
  CHECK(ok(store.ids(T::STATUS_UNSPECIFIED, {}, 10)) == std::vector<std::string>{"aaaa", "bbbb"});
  CHECK(ok(store.ids(T::STATUS_UNSPECIFIED, "aaaa", 10)) == std::vector<std::string>{"bbbb"});
  // RUNNING: out of the due index, found through the status index.
  auto running = b;
  running.set_status(T::RUNNING);
  running.set_lease_expires_at_ms(7000);
  tmp.apply([&](write_set& ws) { store.put(ws, 3, &b, running); });
  CHECK(due_ids(store, 3, 100000) == std::vector<std::string>{"aaaa"});
  CHECK(ok(store.ids(T::RUNNING, {}, 10)) == std::vector<std::string>{"bbbb"});
  CHECK(ok(store.ids(T::SCHEDULED, {}, 10)).empty());
  // Finished: out of the due index, into the finished index.
  auto done = running;
  done.set_status(T::COMPLETED);
  done.set_finished_at_ms(9000);
  tmp.apply([&](write_set& ws) { store.put(ws, 3, &running, done); });
  CHECK(due_ids(store, 3, 100000) == std::vector<std::string>{"aaaa"});
  CHECK(ok(store.finished_before(9001, 10)) == std::vector<std::string>{"bbbb"});
  CHECK(ok(store.finished_before(9000, 10)).empty());
  auto counts = ok(store.count_by_status());
  CHECK(counts[T::PENDING] == 1);
  CHECK(counts[T::COMPLETED] == 1);
  CHECK(ok(store.get("bbbb"))->status() == T::COMPLETED);
}

TEST_CASE("each owner's tasks are listed by status, keys are per owner, unfinished ones counted") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  auto a1 = task("a1", T::SCHEDULED, 0);
  a1.set_owner("alice");
  a1.set_idempotency_key("same");
  auto a2 = task("a2", T::PENDING, 0);
  a2.set_owner("alice");
  auto b1 = task("b1", T::SCHEDULED, 0);
  b1.set_owner("bob");
  b1.set_idempotency_key("same");
  auto node = task("n1", T::SCHEDULED, 0);  // the node's own: in no owner's list
  node.set_idempotency_key("same");
  tmp.apply([&](write_set& ws) {
    for (auto* t : {&a1, &a2, &b1, &node})
      store.put(ws, 0, nullptr, *t);
  });
  CHECK(ok(store.owner_ids("alice", T::SCHEDULED, {}, 10)) == std::vector<std::string>{"a1"});
  CHECK(ok(store.owner_ids("alice", T::PENDING, {}, 10)) == std::vector<std::string>{"a2"});
  CHECK(ok(store.owner_ids("bob", T::SCHEDULED, {}, 10)) == std::vector<std::string>{"b1"});
  CHECK(ok(store.owner_ids("al", T::SCHEDULED, {}, 10)).empty());  // a prefix is another user
  CHECK(ok(store.id_for_key("alice", "same")) == std::string{"a1"});
  CHECK(ok(store.id_for_key("bob", "same")) == std::string{"b1"});
  CHECK(ok(store.id_for_key("", "same")) == std::string{"n1"});
  CHECK_FALSE(ok(store.id_for_key("carol", "same")));
  auto done = a1;
  done.set_status(T::COMPLETED);
  done.set_finished_at_ms(10);
  tmp.apply([&](write_set& ws) { store.put(ws, 0, &a1, done); });
  CHECK(ok(store.owner_ids("alice", T::SCHEDULED, {}, 10)).empty());
  CHECK(ok(store.owner_ids("alice", T::COMPLETED, {}, 10)) == std::vector<std::string>{"a1"});
  auto counts = ok(store.unfinished_by_owner());
  CHECK(counts == std::map<std::string, int64_t>{{"alice", 1}, {"bob", 1}});
  tmp.apply([&](write_set& ws) { store.erase(ws, 0, done); });
  CHECK(ok(store.owner_ids("alice", T::COMPLETED, {}, 10)).empty());
  CHECK_FALSE(ok(store.id_for_key("alice", "same")));
  CHECK(ok(store.id_for_key("bob", "same")) == std::string{"b1"});
}

TEST_CASE("the due index resumes after a position within one millisecond") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  tmp.apply([&](write_set& ws) {
    for (auto id : {"t1", "t2", "t3", "t4"})
      store.put(ws, 0, nullptr, task(id, T::PENDING, 100));
  });
  auto page = ok(store.due(0, 0, {}, 1000, 2));
  REQUIRE(page.size() == 2);
  auto rest = ok(store.due(0, page.back().at_ms, page.back().id, 1000, 10));
  REQUIRE(rest.size() == 2);
  CHECK(rest[0].id == "t3");
  CHECK(rest[1].id == "t4");
}

TEST_CASE("runs are kept in order and erase removes a task with everything it owns") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  auto t = task("cccc", T::CANCELLED, 0);
  t.set_finished_at_ms(50);
  t.set_idempotency_key("k");
  t.set_run_count(2);
  tmp.apply([&](write_set& ws) {
    store.put(ws, 1, nullptr, t);
    for (uint32_t i = 0; i < 2; ++i) {
      pb::TaskRun run;
      run.set_attempt(static_cast<int>(i + 1));
      store.put_run(ws, "cccc", i, run);
    }
  });
  auto runs = ok(store.runs("cccc", 10));
  REQUIRE(runs.size() == 2);
  CHECK(runs[1].attempt() == 2);
  CHECK(ok(store.runs("ccc", 10)).empty());  // a prefix of the id is another task
  tmp.apply([&](write_set& ws) { store.erase(ws, 1, t); });
  CHECK_FALSE(ok(store.get("cccc")));
  CHECK_FALSE(ok(store.id_for_key("", "k")));
  CHECK(ok(store.runs("cccc", 10)).empty());
  CHECK(ok(store.finished_before(1000, 10)).empty());
  CHECK(ok(store.count_by_status()).empty());
}

TEST_CASE("a run record that does not parse is reported, not skipped") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  tmp.apply([&](write_set& ws) {
    ws.put(family::task_runs, key_builder{}.str("dddd").u32(0).bytes(), "\xff\xff\xff");
  });
  auto runs = store.runs("dddd", 10);
  REQUIRE_FALSE(runs);
  CHECK(runs.error().code == errc::internal);
  CHECK(runs.error().message.find("task_runs") != std::string::npos);
}

TEST_CASE("a corrupt task record or index key is reported with its key and counted") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  auto& corrupt_tasks = metrics::global().get_counter(
    "storage_corrupt_records_total", "Stored records or keys found corrupt when read",
    "family=\"tasks\"");
  auto& corrupt_index = metrics::global().get_counter(
    "storage_corrupt_records_total", "Stored records or keys found corrupt when read",
    "family=\"task_index\"");
  auto tasks_before = corrupt_tasks.value();
  auto index_before = corrupt_index.value();
  tmp.apply([&](write_set& ws) {
    store.put(ws, 3, nullptr, task("aaaa", T::PENDING, 1000));
    ws.put(family::tasks, "bbbb", "\xff\xff\xff");
    // A due entry of shard 3 whose time is cut short (7 of its 8 bytes, no id).
    ws.put(family::task_index,
           key_builder{}.u8('d').u32(3).bytes() + std::string("\x80\0\0\0\0\0\x01", 7), {});
  });
  auto bad = store.get("bbbb");
  REQUIRE_FALSE(bad);
  CHECK(bad.error().code == errc::internal);
  CHECK(bad.error().message.find("tasks") != std::string::npos);
  CHECK(bad.error().message.find("bbbb") != std::string::npos);
  CHECK(corrupt_tasks.value() == tasks_before + 1);
  auto due = store.due(3, 0, {}, 10000, 100);  // the entries read before it are not returned
  REQUIRE_FALSE(due);
  CHECK(due.error().code == errc::internal);
  CHECK(due.error().message.find("task_index") != std::string::npos);
  CHECK(corrupt_index.value() == index_before + 1);
}

TEST_CASE("a record written with its payload held apart reads back whole, as before") {
  test::temp_db tmp;
  task_store store{*tmp.db};
  auto t = task("cccc", T::SCHEDULED, 1000);
  auto& fields = *t.mutable_payload()->mutable_struct_value()->mutable_fields();
  fields["n"].set_number_value(7);
  fields["s"].set_string_value("text");
  auto whole = t;
  auto field = task_store::take_payload(t);
  CHECK_FALSE(t.has_payload());
  google::protobuf::Value back;
  REQUIRE(task_store::read_payload(field, back));
  CHECK(back.struct_value().fields().at("s").string_value() == "text");
  auto running = t;
  running.set_status(T::RUNNING);
  tmp.apply([&](write_set& ws) {
    store.put(ws, 0, nullptr, t, field);
    store.put(ws, 0, &t, running, field);
  });
  auto read = ok(store.get("cccc"));
  REQUIRE(read);
  CHECK(read->status() == T::RUNNING);
  CHECK(read->payload().struct_value().fields().at("n").number_value() == 7);
  // Parsed, it is the record the whole one would have been (compared field by field: the bytes
  // of a Struct's map may come in any order).
  whole.set_status(T::RUNNING);
  CHECK(google::protobuf::util::MessageDifferencer::Equals(*read, whole));
  // A task without a payload stores none.
  auto bare = task("dddd", T::SCHEDULED, 1000);
  CHECK(task_store::take_payload(bare).empty());
}
