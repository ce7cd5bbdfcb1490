#include "common/metrics.hpp"

#include <cmath>
#include <sstream>
#include <stdexcept>

namespace parley::metrics {

namespace {

constexpr const char* prefix = "parley_";

std::string format_number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  std::ostringstream out;
  out.precision(12);
  out << v;
  return out.str();
}

std::string with_labels(const std::string& name, const std::string& labels,
                        const std::string& extra = {}) {
  if (labels.empty() && extra.empty())
    return name;
  std::string out = name + "{" + labels;
  if (!labels.empty() && !extra.empty())
    out += ",";
  out += extra + "}";
  return out;
}

} // namespace

histogram::histogram(std::vector<double> bounds)
  : bounds_(std::move(bounds)),
    buckets_(new std::atomic<uint64_t>[bounds_.size() + 1]) {
  for (size_t i = 0; i <= bounds_.size(); ++i)
    buckets_[i].store(0, std::memory_order_relaxed);
}

void histogram::observe(double v) {
  size_t i = 0;
  while (i < bounds_.size() && v > bounds_[i])
    ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
  if (v > 0)
    sum_micros_.fetch_add(static_cast<uint64_t>(v * 1e6), std::memory_order_relaxed);
}

std::vector<uint64_t> histogram::bucket_counts() const {
  std::vector<uint64_t> out(bounds_.size() + 1);
  for (size_t i = 0; i < out.size(); ++i)
    out[i] = buckets_[i].load(std::memory_order_relaxed);
  return out;
}

double histogram::sum() const {
  return static_cast<double>(sum_micros_.load(std::memory_order_relaxed)) / 1e6;
}

std::vector<double> latency_buckets() {
  return {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
          0.01,    0.025,  0.05,    0.1,    0.25,  0.5,    1,     2.5, 5, 10};
}

registry::series& registry::find_or_add(const std::string& name, const std::string& help,
                                        kind type, const std::string& labels, bool prefixed) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto full = prefixed ? prefix + name : name;
  auto [it, added] = families_.try_emplace(full, family{type, help, {}});
  if (!added && it->second.type != type)
    throw std::logic_error("metric " + full + " registered with two types");
  for (auto& s : it->second.items)
    if (s->labels == labels)
      return *s;
  it->second.items.push_back(std::make_unique<series>());
  auto& s = *it->second.items.back();
  s.labels = labels;
  return s;
}

counter& registry::get_counter(const std::string& name, const std::string& help,
                               const std::string& labels) {
  auto& s = find_or_add(name, help, kind::counter, labels);
  std::lock_guard<std::mutex> guard{mtx_};
  if (!s.c)
    s.c = std::make_unique<counter>();
  return *s.c;
}

gauge& registry::get_gauge(const std::string& name, const std::string& help,
                           const std::string& labels) {
  auto& s = find_or_add(name, help, kind::gauge, labels);
  std::lock_guard<std::mutex> guard{mtx_};
  if (!s.g)
    s.g = std::make_unique<gauge>();
  return *s.g;
}

histogram& registry::get_histogram(const std::string& name, const std::string& help,
                                   std::vector<double> bounds, const std::string& labels) {
  auto& s = find_or_add(name, help, kind::histogram, labels);
  std::lock_guard<std::mutex> guard{mtx_};
  if (!s.h)
    s.h = std::make_unique<histogram>(std::move(bounds));
  return *s.h;
}

void registry::add_callback_gauge(const std::string& name, const std::string& help,
                                  std::function<double()> fn, const std::string& labels) {
  auto& s = find_or_add(name, help, kind::callback, labels);
  std::lock_guard<std::mutex> guard{mtx_};
  s.fn = std::move(fn);
}

void registry::add_standard_callback(const std::string& full_name, const std::string& help,
                                     std::function<double()> fn, bool is_counter) {
  auto& s = find_or_add(full_name, help, is_counter ? kind::callback_counter : kind::callback, {},
                        false);
  std::lock_guard<std::mutex> guard{mtx_};
  s.fn = std::move(fn);
}

std::string registry::render() const {
  std::lock_guard<std::mutex> guard{mtx_};
  std::string out;
  for (auto& [name, fam] : families_) {
    const char* type = "gauge";
    if (fam.type == kind::counter || fam.type == kind::callback_counter)
      type = "counter";
    else if (fam.type == kind::histogram)
      type = "histogram";
    out += "# HELP " + name + " " + fam.help + "\n";
    out += "# TYPE " + name + " " + type + "\n";
    for (auto& s : fam.items) {
      switch (fam.type) {
        case kind::counter:
          out += with_labels(name, s->labels) + " " + std::to_string(s->c->value()) + "\n";
          break;
        case kind::gauge:
          out += with_labels(name, s->labels) + " " + std::to_string(s->g->value()) + "\n";
          break;
        case kind::callback:
        case kind::callback_counter:
          out += with_labels(name, s->labels) + " " + format_number(s->fn()) + "\n";
          break;
        case kind::histogram: {
          auto counts = s->h->bucket_counts();
          uint64_t cumulative = 0;
          auto& bounds = s->h->bounds();
          for (size_t i = 0; i < counts.size(); ++i) {
            cumulative += counts[i];
            auto le = i < bounds.size() ? format_number(bounds[i]) : std::string{"+Inf"};
            out += with_labels(name + "_bucket", s->labels, "le=\"" + le + "\"") + " "
                   + std::to_string(cumulative) + "\n";
          }
          out += with_labels(name + "_sum", s->labels) + " " + format_number(s->h->sum()) + "\n";
          out += with_labels(name + "_count", s->labels) + " " + std::to_string(s->h->count())
                 + "\n";
          break;
        }
      }
    }
  }
  return out;
}

registry& global() {
  static registry instance;
  return instance;
}

} // namespace parley::metrics
