#include "storage/group_commit_writer.hpp"
#include "storage/key_codec.hpp"
#include "support/temp_db.hpp"

#include <catch2/catch.hpp>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <future>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using namespace parley;
using namespace parley::storage;

namespace {

std::unique_ptr<engine> open_at(const std::string& dir, sync_mode mode) {
  return test::open_engine(dir, mode);
}

std::string key_of(int writer, int i) {
  return key_builder{}.u32(static_cast<uint32_t>(writer)).u32(static_cast<uint32_t>(i)).bytes();
}

} // namespace

TEST_CASE("many concurrent writers share group commits and each is answered after its write") {
  test::temp_dir dir;
  auto db = open_at(dir.path(), sync_mode::batch);
  group_commit_writer writer{*db};
  constexpr int writers = 8;
  constexpr int per_writer = 200;
  std::atomic<int> acked{0};
  std::atomic<int> failed{0};
  std::atomic<int> missing_at_ack{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      for (int i = 0; i < per_writer; ++i) {
        std::promise<void> done;
        write_set set;
        set.put(family::meta, key_of(w, i), "v");
        writer.submit(std::move(set), [&, w, i](const fault& err) {
          if (err)
            ++failed;
          fault get_err;
          // When the ack arrives, the write must already be visible.
          if (!db->get(family::meta, key_of(w, i), get_err))
            ++missing_at_ack;
          ++acked;
          done.set_value();
        });
        done.get_future().wait();
      }
    });
  for (auto& t : threads)
    t.join();
  CHECK(acked == writers * per_writer);
  CHECK(failed == 0);
  CHECK(missing_at_ack == 0);
  // With 8 writers waiting on each other's fsyncs, commits are shared.
  CHECK(writer.commits() < static_cast<uint64_t>(writers * per_writer));
}

TEST_CASE("sync=always writes each set as its own commit") {
  test::temp_dir dir;
  auto db = open_at(dir.path(), sync_mode::always);
  group_commit_writer writer{*db};
  std::atomic<int> acked{0};
  for (int i = 0; i < 20; ++i) {
    write_set set;
    set.put(family::meta, key_of(0, i), "v");
    writer.submit(std::move(set), [&](const fault&) { ++acked; });
  }
  writer.stop();
  CHECK(acked == 20);
  CHECK(writer.commits() == 20);
}

TEST_CASE("submissions after stop are refused with unavailable, not lost silently") {
  test::temp_dir dir;
  auto db = open_at(dir.path(), sync_mode::none);
  group_commit_writer writer{*db};
  writer.stop();
  fault seen;
  write_set set;
  set.put(family::meta, "k", "v");
  writer.submit(std::move(set), [&](const fault& err) { seen = err; });
  CHECK(seen.code == errc::unavailable);
}

TEST_CASE("every acknowledged write survives a SIGKILL of the writing process") {
  test::temp_dir dir;
  int fds[2];
  REQUIRE(pipe(fds) == 0);
  auto child = fork();
  REQUIRE(child >= 0);
  if (child == 0) {
    // The child writes as fast as it can from 4 threads and reports each acknowledged key.
    close(fds[0]);
    auto db = open_at(dir.path(), sync_mode::batch);
    group_commit_writer writer{*db};
    std::mutex out_mtx;
    std::vector<std::thread> threads;
    for (int w = 0; w < 4; ++w)
      threads.emplace_back([&, w] {
        for (int i = 0;; ++i) {
          std::promise<void> done;
          write_set set;
          set.put(family::meta, key_of(w, i), std::string(100, 'x'));
          writer.submit(std::move(set), [&, w, i](const fault& err) {
            if (!err) {
              std::lock_guard<std::mutex> guard{out_mtx};
              int rec[2] = {w, i};
              if (write(fds[1], rec, sizeof rec) != sizeof rec)
                _exit(3);
            }
            done.set_value();
          });
          done.get_future().wait();
        }
      });
    for (auto& t : threads)
      t.join();
    _exit(0);
  }
  close(fds[1]);
  std::set<std::pair<int, int>> acked;
  int rec[2];
  while (acked.size() < 2000 && read(fds[0], rec, sizeof rec) == sizeof rec)
    acked.emplace(rec[0], rec[1]);
  kill(child, SIGKILL);
  int status = 0;
  waitpid(child, &status, 0);
  // Acks already in the pipe when the child died also count.
  while (read(fds[0], rec, sizeof rec) == sizeof rec)
    acked.emplace(rec[0], rec[1]);
  close(fds[0]);
  REQUIRE(WIFSIGNALED(status));
  REQUIRE(acked.size() >= 2000);

  auto db = open_at(dir.path(), sync_mode::batch);
  size_t missing = 0;
  for (auto& [w, i] : acked) {
    fault err;
    if (!db->get(family::meta, key_of(w, i), err))
      ++missing;
  }
  CHECK(missing == 0);
}
