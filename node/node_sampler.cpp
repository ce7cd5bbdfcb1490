#include "node/node_sampler.hpp"

#include "actors/runtime/atoms.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"
#include "node/process_stats.hpp"

#include <caf/all.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace parley::node {

void sample_history::add(const node_sample& s) {
  std::lock_guard<std::mutex> guard{mtx_};
  samples_.push_back(s);
  while (samples_.size() > capacity_)
    samples_.pop_front();
}

std::vector<node_sample> sample_history::last(size_t n) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto from = samples_.size() > n ? samples_.end() - static_cast<std::ptrdiff_t>(n)
                                  : samples_.begin();
  return {from, samples_.end()};
}

std::vector<node_sample> sample_history::after(int64_t after_ms, size_t n) const {
  std::lock_guard<std::mutex> guard{mtx_};
  auto from = std::upper_bound(samples_.begin(), samples_.end(), after_ms,
                               [](int64_t t, const node_sample& s) { return t < s.at_ms; });
  if (static_cast<size_t>(samples_.end() - from) > n)
    from = samples_.end() - static_cast<std::ptrdiff_t>(n);
  return {from, samples_.end()};
}

namespace {

constexpr auto interval = std::chrono::seconds{1};
// Entities probed per kind each second: enough to catch a hot kind, cheap with many actors.
constexpr uint64_t probed_per_kind = 64;

// What the sampler remembers between samples, and the per-kind waits the metric reads.
struct sampler_state {
  std::mutex mtx;
  std::map<std::string, double> wait_seconds;  // per kind, the last sample's longest wait
  uint64_t frames = 0;
  uint64_t delivered = 0;
  std::vector<uint64_t> commit_buckets;
  int64_t last_ms = 0;
};

struct counters {
  metrics::counter& frames_in = metrics::global().get_counter("ws_frames_in_total",
                                                              "WebSocket frames decoded");
  metrics::counter& frames_out = metrics::global().get_counter("ws_frames_out_total",
                                                               "WebSocket frames written");
  metrics::counter& pushed = metrics::global().get_counter("chat_messages_pushed_total",
                                                           "Message frames pushed to devices");
  metrics::gauge& websockets = metrics::global().get_gauge("ws_connections",
                                                           "Open WebSocket connections");
  metrics::histogram& commits = metrics::global().get_histogram(
    "storage_commit_seconds", "Time to write and sync one group commit",
    metrics::latency_buckets());
};

counters& instruments() {
  static counters c;
  return c;
}

// The 99th percentile of the commits counted in `delta` (per-bucket counts), as the upper bound
// of the bucket it falls in, in ms; 0 without commits.
double p99_ms(const std::vector<double>& bounds, const std::vector<uint64_t>& delta) {
  uint64_t total = 0;
  for (auto n : delta)
    total += n;
  if (total == 0)
    return 0;
  auto rank = static_cast<uint64_t>(std::ceil(0.99 * static_cast<double>(total)));
  uint64_t seen = 0;
  for (size_t i = 0; i < delta.size(); ++i) {
    seen += delta[i];
    if (seen >= rank)
      return (i < bounds.size() ? bounds[i] : bounds.back()) * 1000.0;
  }
  return bounds.back() * 1000.0;
}

void record(sampler_state& st, sample_history& history,
            const result<std::vector<probed_actor>>& probed) {
  auto& m = instruments();
  auto now = unix_ms();
  node_sample s;
  s.at_ms = now;
  s.websockets = static_cast<double>(m.websockets.value());
  s.resident_bytes = read_process_stats().resident_bytes;
  std::lock_guard<std::mutex> guard{st.mtx};
  auto seconds = st.last_ms == 0 ? 1.0 : std::max(0.001, (now - st.last_ms) / 1000.0);
  auto frames = m.frames_in.value() + m.frames_out.value();
  auto delivered = m.pushed.value();
  auto buckets = m.commits.bucket_counts();
  if (st.last_ms != 0) {
    s.frames_per_sec = static_cast<double>(frames - st.frames) / seconds;
    s.delivered_per_sec = static_cast<double>(delivered - st.delivered) / seconds;
    std::vector<uint64_t> delta(buckets.size());
    for (size_t i = 0; i < buckets.size() && i < st.commit_buckets.size(); ++i)
      delta[i] = buckets[i] - st.commit_buckets[i];
    s.commit_p99_ms = p99_ms(m.commits.bounds(), delta);
  }
  st.frames = frames;
  st.delivered = delivered;
  st.commit_buckets = std::move(buckets);
  st.last_ms = now;
  if (probed) {
    for (auto& [kind, wait] : st.wait_seconds)
      wait = 0;
    for (auto& p : *probed) {
      // An actor that did not answer within the probe's timeout waited at least that long.
      auto wait_ms = p.wait_ms < 0 ? 2000.0 : p.wait_ms;
      auto& kind_wait = st.wait_seconds[p.kind];
      kind_wait = std::max(kind_wait, wait_ms / 1000.0);
      s.largest_mailbox_wait_ms = std::max(s.largest_mailbox_wait_ms, wait_ms);
    }
  }
  history.add(s);
}

} // namespace

caf::actor spawn_node_sampler(caf::actor_system& sys, caf::actor registry, named_actors singletons,
                              std::shared_ptr<sample_history> history) {
  auto st = std::make_shared<sampler_state>();
  // One series per kind, registered up front so that scrapes see every kind from the start.
  std::vector<std::string> kinds = entity_kinds();
  for (auto& [kind, handle] : singletons)
    if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end())
      kinds.push_back(kind);
  for (auto& kind : kinds) {
    st->wait_seconds[kind] = 0;
    metrics::global().add_callback_gauge(
      "mailbox_wait_seconds",
      "Longest time a message waited in a mailbox of this actor kind, sampled each second",
      [weak = std::weak_ptr<sampler_state>{st}, kind] {
        auto s = weak.lock();
        if (!s)
          return 0.0;
        std::lock_guard<std::mutex> guard{s->mtx};
        return s->wait_seconds[kind];
      },
      "kind=\"" + kind + "\"");
  }
  return sys.spawn([registry, singletons, history, st](caf::event_based_actor* self) {
    self->send(self, tick_atom_v);
    return caf::behavior{
      [self, registry, singletons, history, st](tick_atom) {
        auto me = caf::actor_cast<caf::actor>(self);
        auto started = std::chrono::steady_clock::now();
        probe_mailboxes(self->system(), registry, singletons, probed_per_kind,
                        [me, history, st, started](result<std::vector<probed_actor>> probed) {
                          record(*st, *history, probed);
                          auto spent = std::chrono::steady_clock::now() - started;
                          auto wait = spent < interval ? interval - spent
                                                       : std::chrono::steady_clock::duration{0};
                          caf::delayed_anon_send(me, wait, tick_atom_v);
                        });
      },
    };
  });
}

} // namespace parley::node
