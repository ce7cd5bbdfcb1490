#include "actors/links/link_service.hpp"

#include "actors/links/link_reads.hpp"
#include "actors/links/link_rules.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <deque>
#include <set>

namespace parley::links {

namespace {

constexpr int64_t max_ttl_sec = 10LL * 366 * 24 * 3600;
constexpr size_t purge_batch = 1000;

struct service_metrics {
  metrics::counter& created = metrics::global().get_counter("links_created_total", "Links created");
  metrics::counter& deleted = metrics::global().get_counter("links_deleted_total", "Links deleted");
  metrics::counter& purged = metrics::global().get_counter(
    "links_expired_purged_total", "Expired links turned into tombstones");
  metrics::gauge& pool = metrics::global().get_gauge(
    "links_key_pool_size", "Keys reserved durably and ready to hand out");
};

service_metrics& instruments() {
  static service_metrics m;
  return m;
}

using created_promise = caf::typed_response_promise<pb::LinkRecord>;

// A create with a generated key, validated, waiting for the key pool's refill.
struct waiting_create {
  pb::StoredLink link;
  created_promise reply;
  pb::NewLink request;  // as asked: for another node when this one owns no keys (cluster)
};

struct service_state {
  links_context_ptr ctx;
  std::deque<std::string> pool;
  bool refilling = false;
  std::deque<waiting_create> waiting;
  std::set<std::string> aliases_in_flight;
  // Expired links whose tombstone is being written: a sweep that overlaps another skips them.
  std::set<std::string> purges_in_flight;

  static inline const char* name = "parley.link_service";
};

// The expiry timer is the service's own business, not part of its interface.
using service_impl = link_service_api::extend<caf::reacts_to<tick_atom>>;
using service_actor = service_impl::stateful_pointer<service_state>;

// Validates the request and fills the stored record; the key is chosen by the caller.
fault prepare(const pb::NewLink& in, pb::StoredLink& out) {
  auto& req = in.request();
  if (auto err = check_long_url(req.long_url()))
    return err;
  if (req.ttl() < 0 || req.ttl() > max_ttl_sec)
    return make_fault(errc::bad_request, "ttl must be between 1 and 316224000 seconds");
  if (req.redirect() != 0 && req.redirect() != 301 && req.redirect() != 302)
    return make_fault(errc::bad_request, "redirect must be 301 or 302");
  auto now = unix_ms();
  out.set_long_url(req.long_url());
  out.set_redirect(req.redirect() == 0 ? 302 : req.redirect());
  out.set_created_at_ms(now);
  out.set_expires_at_ms(req.ttl() > 0 ? now + req.ttl() * 1000 : 0);
  out.set_owner_id(in.owner_id());
  out.set_state(pb::StoredLink::LIVE);
  return {};
}

// Writes the link durably, then answers. `done` runs after the write whatever its outcome.
template <class Done>
void write_link(service_actor self, const std::string& key, const pb::StoredLink& link,
                created_promise reply, Done done) {
  auto& ctx = *self->state.ctx;
  storage::write_set ws;
  ctx.store->put_link(ws, key, link);
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, key, link, reply, done]() mutable {
        // A redirect may have looked the key up before it existed: drop any cached answer.
        self->state.ctx->cache.erase(key);
        instruments().created.inc();
        done();
        pb::LinkRecord created;
        created.set_key(key);
        *created.mutable_link() = link;
        reply.deliver(std::move(created));
      },
      [key, reply, done](caf::error& err) mutable {
        done();
        spdlog::error("link {} not stored: {}", key, to_fault(err).message);
        reply.deliver(make_error(to_fault(err)));
      });
}

void refill(service_actor self);

void create_with_pool_key(service_actor self, pb::StoredLink link, created_promise reply,
                          pb::NewLink request) {
  auto& st = self->state;
  // A pool key of a partition this node no longer owns is left alone (its reservation keeps it
  // from ever being handed out here).
  while (!st.pool.empty() && !st.ctx->owns(st.pool.front()))
    st.pool.pop_front();
  if (st.pool.empty()) {
    st.waiting.push_back(waiting_create{std::move(link), std::move(reply), std::move(request)});
    refill(self);
    return;
  }
  auto key = std::move(st.pool.front());
  st.pool.pop_front();
  instruments().pool.set(static_cast<int64_t>(st.pool.size()));
  if (st.pool.size() < st.ctx->opts.key_batch / 4)
    refill(self);
  write_link(self, key, link, std::move(reply), [] {});
}

// In a cluster, a node that owns no partition draws no keys: its creates go to the owner of a
// random key, whose service draws one of its own.
void create_elsewhere(service_actor self, waiting_create w) {
  auto owner = self->state.ctx->service_for(random_key());
  if (!owner) {
    w.reply.deliver(std::move(owner.error()));
    return;
  }
  self->request(*owner, std::chrono::seconds{30}, create_atom_v, std::move(w.request))
    .then([reply = w.reply](pb::LinkRecord& created) mutable { reply.deliver(std::move(created)); },
          [reply = w.reply](caf::error& e) mutable { reply.deliver(std::move(e)); });
}

// Draws a batch of fresh random keys, reserves them durably, then serves waiting creates. In a
// cluster only keys of partitions this node owns are kept (about 1 in N draws): a key lives on
// its partition's primary, and the key space of each partition has a single writer there.
void refill(service_actor self) {
  auto& st = self->state;
  if (st.refilling)
    return;
  st.refilling = true;
  storage::write_set ws;
  std::vector<std::string> batch;
  fault err;
  std::set<std::string> drawn{st.pool.begin(), st.pool.end()};
  auto draws = st.ctx->opts.key_batch;
  if (st.ctx->clustered())
    draws *= 4 * (st.ctx->router->other_nodes().size() + 1);
  for (size_t i = 0; i < draws && batch.size() < st.ctx->opts.key_batch; ++i) {
    auto key = random_key();
    // 62^7 keys make a collision rare; the bloom filters make the check cheap.
    if (drawn.count(key) || st.aliases_in_flight.count(key) || !st.ctx->owns(key))
      continue;
    auto taken = st.ctx->store->key_taken(key);
    if (!taken) {
      err = taken.error();
      break;
    }
    if (*taken)
      continue;
    drawn.insert(key);
    st.ctx->store->reserve(ws, key);
    batch.push_back(std::move(key));
  }
  auto fail_waiting = [self](const fault& f) {
    auto waiting = std::move(self->state.waiting);
    self->state.waiting.clear();
    for (auto& w : waiting)
      w.reply.deliver(make_error(f));
  };
  if (err) {
    st.refilling = false;
    fail_waiting(err);
    return;
  }
  if (batch.empty() && st.ctx->clustered()) {
    st.refilling = false;
    auto waiting = std::move(st.waiting);
    st.waiting.clear();
    for (auto& w : waiting)
      create_elsewhere(self, std::move(w));
    return;
  }
  self->request(st.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, batch]() {
        auto& st = self->state;
        st.refilling = false;
        st.pool.insert(st.pool.end(), batch.begin(), batch.end());
        instruments().pool.set(static_cast<int64_t>(st.pool.size()));
        auto waiting = std::move(st.waiting);
        st.waiting.clear();
        for (auto& w : waiting)
          create_with_pool_key(self, std::move(w.link), std::move(w.reply),
                               std::move(w.request));
      },
      [self, fail_waiting](caf::error& e) {
        self->state.refilling = false;
        spdlog::error("key pool refill failed: {}", to_fault(e).message);
        fail_waiting(to_fault(e));
      });
}

caf::result<pb::LinkRecord> create(service_actor self, const pb::NewLink& req) {
  auto& st = self->state;
  pb::StoredLink link;
  if (auto err = prepare(req, link))
    return make_error(err);
  auto& alias = req.request().custom_alias();
  if (alias.empty()) {
    auto reply = self->make_response_promise<pb::LinkRecord>();
    create_with_pool_key(self, std::move(link), reply, req);
    return reply;
  }
  if (auto err = check_alias(alias, st.ctx->reserved_segments))
    return make_error(err);
  if (!st.ctx->owns(alias))
    return make_error(errc::unavailable, "custom_alias \"" + alias
                                           + "\" belongs to another node now; retry");
  auto taken = st.aliases_in_flight.count(alias) ? result<bool>{true}
                                                 : st.ctx->store->key_taken(alias);
  if (!taken)
    return make_error(taken.error());
  if (*taken)
    return make_error(errc::conflict, "custom_alias \"" + alias + "\" is taken");
  st.aliases_in_flight.insert(alias);
  auto reply = self->make_response_promise<pb::LinkRecord>();
  write_link(self, alias, link, reply,
             [self, key = alias] { self->state.aliases_in_flight.erase(key); });
  return reply;
}

// In a cluster, other nodes may hold the deleted link in their redirect caches: each is told
// once (one-way; an entry a lost message leaves behind is refreshed after remote_cache_ms).
void forget_elsewhere(service_actor self, const std::string& key) {
  auto& ctx = *self->state.ctx;
  if (!ctx.clustered())
    return;
  pb::LinkKey msg;
  msg.set_key(key);
  for (auto& [node, peer] : ctx.router->others(link_service_name))
    self->send(caf::actor_cast<link_service_api>(peer), uncache_atom_v, msg);
}

// Clicks other nodes' redirects counted for this node's links: into this node's queue, which
// the aggregator folds like its own.
void count_clicks(service_actor self, const pb::ClickBatch& batch) {
  auto& ctx = *self->state.ctx;
  for (auto& c : batch.clicks()) {
    if (!ctx.owns(c.key()))
      continue;  // moved meanwhile: counted nowhere rather than where nobody reads it
    click local;
    local.key = c.key();
    local.referrer = c.referrer();
    local.at_ms = c.at_ms();
    local.user_agent = c.user_agent();
    ctx.clicks.push(std::move(local));
  }
}

caf::result<void> remove(service_actor self, const pb::LinkDeletion& req) {
  auto& ctx = *self->state.ctx;
  auto read = ctx.store->get(req.key());
  if (!read)
    return make_error(read.error());
  auto& link = *read;
  if (!link || link->state() != pb::StoredLink::LIVE)
    return make_error(errc::not_found, "no link " + req.key());
  if (link->owner_id() != req.user_id() && !req.admin())
    return make_error(errc::forbidden, "only the link's owner or an admin may delete it");
  storage::write_set ws;
  ctx.store->put_tombstone(ws, req.key(), *link, pb::StoredLink::DELETED);
  // Answered with an empty reply, the one a void handler sends.
  auto reply = self->make_response_promise<caf::unit_t>();
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, key = req.key(), reply]() mutable {
        auto& ctx = *self->state.ctx;
        ctx.cache.erase(key);
        caf::anon_send(ctx.aggregator, delete_atom_v, key);
        instruments().deleted.inc();
        reply.deliver(caf::unit);
        forget_elsewhere(self, key);
      },
      [reply](caf::error& e) mutable { reply.deliver(make_error(to_fault(e))); });
  return reply;
}

// Turns up to purge_batch expired links into tombstones. Calls `done(purged, more)` once they
// are durable (or the write failed), `more` telling whether the batch was full.
template <class Done>
void sweep(service_actor self, Done done) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto keys = ctx.store->expired_keys(unix_ms(), purge_batch);
  if (!keys) {
    spdlog::error("link purge: {}", keys.error().message);
    return done(uint64_t{0}, false);
  }
  storage::write_set ws;
  std::vector<std::string> purged;
  for (auto& key : *keys) {
    if (st.purges_in_flight.count(key))
      continue;
    auto link = ctx.store->get(key);
    if (!link) {
      // The links read so far are purged; the rest wait for the next sweep.
      spdlog::error("link purge: {}", link.error().message);
      break;
    }
    if (*link && (*link)->state() == pb::StoredLink::LIVE) {
      ctx.store->put_tombstone(ws, key, **link, pb::StoredLink::EXPIRED);
      purged.push_back(key);
    }
  }
  bool more = purged.size() == purge_batch;
  if (purged.empty())
    return done(uint64_t{0}, more);
  st.purges_in_flight.insert(purged.begin(), purged.end());
  auto finish = [self, purged](bool stored) {
    for (auto& key : purged) {
      self->state.purges_in_flight.erase(key);
      if (stored) {
        self->state.ctx->cache.erase(key);
        caf::anon_send(self->state.ctx->aggregator, delete_atom_v, key);
      }
    }
    if (stored)
      instruments().purged.inc(purged.size());
  };
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [finish, done, n = purged.size(), more]() mutable {
        finish(true);
        done(uint64_t{n}, more);
      },
      [finish, done, more](caf::error& e) mutable {
        spdlog::error("link purge: {}", to_fault(e).message);
        finish(false);
        done(uint64_t{0}, more);
      });
}

// The expiry timer: sweeps, then sleeps links.purge_interval, or 100 ms while batches are full.
void on_tick(service_actor self) {
  sweep(self, [self](uint64_t, bool more) {
    auto again = more ? std::chrono::milliseconds{100}
                      : std::chrono::milliseconds{self->state.ctx->opts.purge_interval};
    self->delayed_send(self, again, tick_atom_v);
  });
}

caf::result<uint64_t> purge_now(service_actor self) {
  auto reply = self->make_response_promise<uint64_t>();
  sweep(self, [reply](uint64_t purged, bool) mutable { reply.deliver(purged); });
  return reply;
}

caf::result<pb::LinkRecord> read(service_actor self, const pb::LinkKey& q) {
  pb::LinkRecord out;
  if (auto err = describe(*self->state.ctx, q.key(), unix_ms(), out))
    return make_error(err);
  return out;
}

caf::result<pb::LinkStats> read(service_actor self, const pb::LinkStatsQuery& q) {
  pb::LinkStats out;
  if (auto err = link_stats(*self->state.ctx, q.key(), unix_ms(), out))
    return make_error(err);
  return out;
}

caf::result<pb::LinkLookup> resolve(service_actor self, const pb::LinkKey& q) {
  pb::LinkLookup out;
  if (auto err = lookup(*self->state.ctx, q.key(), out))
    return make_error(err);
  return out;
}

} // namespace

link_service_api spawn_link_service(caf::actor_system& sys, links_context_ptr ctx) {
  return sys.spawn([ctx](service_actor self) -> service_impl::behavior_type {
    self->state.ctx = ctx;
    auto reserved = ctx->store->reserved_keys();
    if (reserved)
      self->state.pool.assign(reserved->begin(), reserved->end());
    else  // the pool draws fresh keys; those reservations stay taken, never handed out twice
      spdlog::error("key pool: previous reservations unreadable: {}", reserved.error().message);
    instruments().pool.set(static_cast<int64_t>(self->state.pool.size()));
    self->send(self, tick_atom_v);
    return {
      [self](create_atom, const pb::NewLink& req) { return create(self, req); },
      [self](delete_atom, const pb::LinkDeletion& req) { return remove(self, req); },
      [self](purge_atom) { return purge_now(self); },
      [self](tick_atom) { on_tick(self); },
      [self](read_atom, const pb::LinkKey& q) { return read(self, q); },
      [self](read_atom, const pb::LinkStatsQuery& q) { return read(self, q); },
      [self](resolve_atom, const pb::LinkKey& q) { return resolve(self, q); },
      [self](clicks_atom, const pb::ClickBatch& batch) { count_clicks(self, batch); },
      [self](uncache_atom, const pb::LinkKey& q) { self->state.ctx->cache.erase(q.key()); },
    };
  });
}

} // namespace parley::links
