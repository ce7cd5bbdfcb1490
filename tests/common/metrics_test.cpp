#include "common/metrics.hpp"

#include <catch2/catch.hpp>

#include <thread>

using namespace parley::metrics;

TEST_CASE("counters and gauges render in the Prometheus text format with the parley_ prefix") {
  registry reg;
  reg.get_counter("things_total", "Things seen").inc(3);
  reg.get_gauge("depth", "Queue depth", "queue=\"a\"").set(7);
  auto text = reg.render();
  CHECK(text.find("# HELP parley_things_total Things seen\n") != std::string::npos);
  CHECK(text.find("# TYPE parley_things_total counter\n") != std::string::npos);
  CHECK(text.find("parley_things_total 3\n") != std::string::npos);
  CHECK(text.find("# TYPE parley_depth gauge\n") != std::string::npos);
  CHECK(text.find("parley_depth{queue=\"a\"} 7\n") != std::string::npos);
}

TEST_CASE("the same name and labels return the same instrument") {
  registry reg;
  auto& a = reg.get_counter("c_total", "c");
  auto& b = reg.get_counter("c_total", "c");
  auto& other = reg.get_counter("c_total", "c", "kind=\"x\"");
  CHECK(&a == &b);
  CHECK(&a != &other);
  CHECK_THROWS(reg.get_gauge("c_total", "c"));
}

TEST_CASE("histograms render cumulative buckets, sum and count") {
  registry reg;
  auto& h = reg.get_histogram("latency_seconds", "Latency", {0.1, 1});
  h.observe(0.05);
  h.observe(0.5);
  h.observe(5);
  auto text = reg.render();
  CHECK(text.find("parley_latency_seconds_bucket{le=\"0.1\"} 1\n") != std::string::npos);
  CHECK(text.find("parley_latency_seconds_bucket{le=\"1\"} 2\n") != std::string::npos);
  CHECK(text.find("parley_latency_seconds_bucket{le=\"+Inf\"} 3\n") != std::string::npos);
  CHECK(text.find("parley_latency_seconds_count 3\n") != std::string::npos);
  CHECK(text.find("parley_latency_seconds_sum 5.55\n") != std::string::npos);
}

TEST_CASE("callback gauges are computed when scraped") {
  registry reg;
  double v = 1;
  reg.add_callback_gauge("computed", "Computed", [&v] { return v; });
  v = 42;
  CHECK(reg.render().find("parley_computed 42\n") != std::string::npos);
}

TEST_CASE("counters lose no increments under concurrent updates") {
  registry reg;
  auto& c = reg.get_counter("n_total", "n");
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&c] {
      for (int i = 0; i < 100000; ++i)
        c.inc();
    });
  for (auto& t : threads)
    t.join();
  CHECK(c.value() == 400000);
}

TEST_CASE("standard process metrics keep their names without the prefix") {
  registry r;
  r.add_standard_callback("process_cpu_seconds_total", "CPU time", [] { return 1.5; }, true);
  r.add_standard_callback("process_open_fds", "Open fds", [] { return 12.0; });
  auto text = r.render();
  CHECK(text.find("# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n")
        != std::string::npos);
  CHECK(text.find("# TYPE process_open_fds gauge\nprocess_open_fds 12\n") != std::string::npos);
  CHECK(text.find("parley_process") == std::string::npos);
}
