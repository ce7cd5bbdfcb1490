// A small Prometheus metrics registry: counters, gauges and histograms, lock-free to update,
// rendered in the text exposition format. Names get the `parley_` prefix when registered.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace parley::metrics {

class counter {
public:
  void inc(uint64_t n = 1) { value_.fetch_add(n, std::memory_order_relaxed); }
  uint64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<uint64_t> value_{0};
};

class gauge {
public:
  void set(int64_t v) { value_.store(v, std::memory_order_relaxed); }
  void add(int64_t n) { value_.fetch_add(n, std::memory_order_relaxed); }
  void sub(int64_t n) { value_.fetch_sub(n, std::memory_order_relaxed); }
  int64_t value() const { return value_.load(std::memory_order_relaxed); }

private:
  std::atomic<int64_t> value_{0};
};

// Cumulative histogram with fixed upper bounds (seconds, bytes, ...), as Prometheus expects.
class histogram {
public:
  explicit histogram(std::vector<double> bounds);

  void observe(double v);

  const std::vector<double>& bounds() const { return bounds_; }
  // Per-bucket (non-cumulative) counts; the last one is the +Inf bucket.
  std::vector<uint64_t> bucket_counts() const;
  uint64_t count() const { return count_.load(std::memory_order_relaxed); }
  double sum() const;

private:
  std::vector<double> bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<uint64_t> sum_micros_{0};  // sum kept in millionths to stay atomic
};

// Latency buckets in seconds from 50 us to 10 s.
std::vector<double> latency_buckets();

class registry {
public:
  // Each call with the same name and labels returns the same instrument. `labels` is the
  // Prometheus label set without braces, e.g. `kind="chat"`; empty for none.
  counter& get_counter(const std::string& name, const std::string& help,
                       const std::string& labels = {});
  gauge& get_gauge(const std::string& name, const std::string& help,
                   const std::string& labels = {});
  histogram& get_histogram(const std::string& name, const std::string& help,
                           std::vector<double> bounds, const std::string& labels = {});

  // A gauge computed when scraped (queue depths, RSS); `fn` must be thread-safe.
  void add_callback_gauge(const std::string& name, const std::string& help,
                          std::function<double()> fn, const std::string& labels = {});

  // The Prometheus clients' standard process metrics (process_cpu_seconds_total,
  // process_resident_memory_bytes, ...) keep their own names, without the parley_ prefix, so
  // dashboards and alerts written for them work unchanged. Computed when scraped.
  void add_standard_callback(const std::string& full_name, const std::string& help,
                             std::function<double()> fn, bool is_counter = false);

  // The whole registry in the Prometheus text format (version 0.0.4).
  std::string render() const;

private:
  enum class kind { counter, gauge, histogram, callback, callback_counter };
  struct series {
    std::string labels;
    std::unique_ptr<counter> c;
    std::unique_ptr<gauge> g;
    std::unique_ptr<histogram> h;
    std::function<double()> fn;
  };
  struct family {
    kind type;
    std::string help;
    std::vector<std::unique_ptr<series>> items;
  };

  series& find_or_add(const std::string& name, const std::string& help, kind type,
                      const std::string& labels, bool prefixed = true);

  mutable std::mutex mtx_;
  std::map<std::string, family> families_;
};

// The process-wide registry every module reports into.
registry& global();

} // namespace parley::metrics
