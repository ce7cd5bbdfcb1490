#include "actors/links/click_aggregator.hpp"

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <map>
#include <unordered_map>

namespace parley::links {

namespace {

metrics::counter& counted() {
  static auto& c = metrics::global().get_counter("links_clicks_counted_total",
                                                 "Clicks written to link statistics");
  return c;
}

// Statistics kept in memory between flushes, so a flush writes without reading first (the
// aggregator is their only writer). Bounded: past this many links the cache starts over.
constexpr size_t max_cached_stats = 200'000;

struct aggregator_state {
  links_context_ptr ctx;
  std::unordered_map<std::string, pb::StoredLinkStats> stats;
  bool draining = false;  // the node stops: no more ticks

  static inline const char* name = "parley.click_aggregator";
};

using aggregator_actor = caf::stateful_actor<aggregator_state>;

metrics::counter& shipped() {
  static auto& c = metrics::global().get_counter(
    "links_clicks_shipped_total", "Clicks sent to the node that owns their link (cluster)");
  return c;
}

metrics::counter& unrouted() {
  static auto& c = metrics::global().get_counter(
    "links_clicks_unrouted_total", "Clicks not counted because their link's owner was "
                                   "unavailable (cluster)");
  return c;
}

// In a cluster: takes the clicks of links other nodes own out of `clicks` and sends them to
// their owners, one batch per node (their aggregators count them with their own). A click whose
// owner is unavailable now is dropped and counted.
void ship_remote_clicks(aggregator_actor* self, std::vector<click>& clicks) {
  auto& ctx = *self->state.ctx;
  std::map<std::string, pb::ClickBatch> by_node;
  auto first_remote = std::partition(clicks.begin(), clicks.end(),
                             [&ctx](const click& c) { return ctx.owns(c.key); });
  for (auto it = first_remote; it != clicks.end(); ++it) {
    auto where = ctx.router->locate(link_service_name, it->key);
    if (where.at != runtime::entity_location::where::remote) {
      unrouted().inc();
      continue;
    }
    auto* c = by_node[where.node].add_clicks();
    c->set_key(std::move(it->key));
    c->set_referrer(std::move(it->referrer));
    c->set_at_ms(it->at_ms);
    c->set_user_agent(std::move(it->user_agent));
  }
  clicks.erase(first_remote, clicks.end());
  for (auto& [node, batch] : by_node) {
    auto peer = ctx.router->at(link_service_name, node);
    if (!peer) {
      unrouted().inc(static_cast<uint64_t>(batch.clicks_size()));
      continue;
    }
    shipped().inc(static_cast<uint64_t>(batch.clicks_size()));
    self->send(caf::actor_cast<link_service_api>(peer), clicks_atom_v, std::move(batch));
  }
}

// Writes the queued clicks; `tick` runs once they are stored (or nothing was to be stored).
void flush(aggregator_actor* self, std::function<void()> tick) {
  auto& ctx = *self->state.ctx;
  auto clicks = ctx.clicks.take();
  if (ctx.clustered())
    ship_remote_clicks(self, clicks);
  if (clicks.empty())
    return tick();
  std::unordered_map<std::string, std::vector<const click*>> by_key;
  for (auto& c : clicks)
    by_key[c.key].push_back(&c);
  storage::write_set ws;
  fault err;
  auto& cache = self->state.stats;
  if (cache.size() + by_key.size() > max_cached_stats)
    cache.clear();
  for (auto& [key, list] : by_key) {
    auto it = cache.find(key);
    if (it == cache.end()) {
      // First clicks since start (or since the cache started over): from storage, and only
      // for live links (a link deleted since the click took its statistics with it).
      auto link = ctx.store->get(key);
      if (!link) {
        err = link.error();
        break;
      }
      if (!*link || (*link)->state() != pb::StoredLink::LIVE)
        continue;
      auto stored = ctx.store->get_stats(key);
      if (!stored) {
        err = stored.error();
        break;
      }
      // Nothing stored yet: the link's first clicks.
      it = cache.emplace(key, std::move(*stored).value_or(pb::StoredLinkStats{})).first;
    }
    fold_clicks(it->second, list);
    ctx.store->put_stats(ws, key, it->second);
  }
  if (err) {
    spdlog::error("click statistics not updated: {}", err.message);
    return tick();
  }
  auto n = clicks.size();
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, n, tick]() {
        counted().inc(n);
        tick();
      },
      [self, tick](caf::error& e) {
        spdlog::error("click statistics not stored: {}", to_fault(e).message);
        tick();
      });
}

} // namespace

void fold_clicks(pb::StoredLinkStats& stats, const std::vector<const click*>& clicks) {
  auto& refs = *stats.mutable_referrers();
  auto& dev = *stats.mutable_devices();
  for (auto* c : clicks) {
    stats.set_clicks(stats.clicks() + 1);
    stats.set_last_accessed_ms(std::max(stats.last_accessed_ms(), c->at_ms));
    ++refs[c->referrer.empty() ? "direct" : c->referrer];
    // Classified here, off the redirect path: matching a User-Agent costs microseconds.
    switch (classify_user_agent(c->user_agent)) {
      case device_class::desktop:
        dev.set_desktop(dev.desktop() + 1);
        break;
      case device_class::mobile:
        dev.set_mobile(dev.mobile() + 1);
        break;
      case device_class::bot:
        dev.set_bot(dev.bot() + 1);
        break;
      case device_class::other:
        dev.set_other(dev.other() + 1);
        break;
    }
  }
  while (refs.size() > max_referrers_kept) {
    auto least = refs.begin();
    for (auto it = refs.begin(); it != refs.end(); ++it)
      if (it->second < least->second)
        least = it;
    refs.erase(least);
  }
}

caf::actor spawn_click_aggregator(caf::actor_system& sys, links_context_ptr ctx) {
  return sys.spawn([ctx](aggregator_actor* self) -> caf::behavior {
    self->state.ctx = ctx;
    self->delayed_send(self, ctx->opts.stats_flush, flush_atom_v);
    return {
      [self](flush_atom) {
        if (self->state.draining)
          return;
        flush(self, [self] {
          if (!self->state.draining)
            self->delayed_send(self, self->state.ctx->opts.stats_flush, flush_atom_v);
        });
      },
      // A link was deleted or purged: forget its statistics, so that clicks queued before
      // that find the tombstone instead of writing statistics for a dead link.
      [self](delete_atom, const std::string& key) { self->state.stats.erase(key); },
      // The node stops: count what is still queued, answer once it is stored.
      [self](drain_atom) -> caf::result<void> {
        self->state.draining = true;
        auto rp = self->make_response_promise();
        flush(self, [rp]() mutable { rp.deliver(caf::unit); });
        return rp;
      },
    };
  });
}

} // namespace parley::links
