#include "actors/links/link_service.hpp"
#include "common/clock.hpp"

#include "actors/links/link_rules.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <deque>

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

struct service_state {
  links_context_ptr ctx;
  std::deque<std::string> pool;
  bool refilling = false;
  // Creates with generated keys waiting for a refill, with their validated records.
  std::deque<std::pair<link_create, pb::StoredLink>> waiting;
  std::set<std::string> aliases_in_flight;

  static inline const char* name = "parley.link_service";
};

using service_actor = caf::stateful_actor<service_state>;

// Validates the request and fills the stored record; the key is chosen by the caller.
fault prepare(const link_create& in, pb::StoredLink& out) {
  auto& req = in.request;
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
  out.set_owner_id(in.owner);
  out.set_state(pb::StoredLink::LIVE);
  return {};
}

// Writes the link durably, then answers. `done` runs after the write whatever its outcome.
void write_link(service_actor* self, const std::string& key, const pb::StoredLink& link,
                link_create req, std::function<void()> done = {}) {
  auto& ctx = *self->state.ctx;
  storage::write_set ws;
  ctx.store->put_link(ws, key, link);
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, key, link, req, done]() {
        // A redirect may have looked the key up before it existed: drop any cached answer.
        self->state.ctx->cache.erase(key);
        instruments().created.inc();
        if (done)
          done();
        req.reply({}, key, link);
      },
      [key, req, done](caf::error& err) {
        if (done)
          done();
        spdlog::error("link {} not stored: {}", key, to_fault(err).message);
        req.reply(to_fault(err), key, {});
      });
}

void refill(service_actor* self);

void create_with_pool_key(service_actor* self, link_create req, pb::StoredLink link) {
  auto& st = self->state;
  if (st.pool.empty()) {
    st.waiting.emplace_back(std::move(req), std::move(link));
    refill(self);
    return;
  }
  auto key = std::move(st.pool.front());
  st.pool.pop_front();
  instruments().pool.set(static_cast<int64_t>(st.pool.size()));
  if (st.pool.size() < st.ctx->opts.key_batch / 4)
    refill(self);
  write_link(self, key, link, std::move(req));
}

// Draws a batch of fresh random keys, reserves them durably, then serves waiting creates.
void refill(service_actor* self) {
  auto& st = self->state;
  if (st.refilling)
    return;
  st.refilling = true;
  storage::write_set ws;
  std::vector<std::string> batch;
  fault err;
  std::set<std::string> drawn{st.pool.begin(), st.pool.end()};
  for (size_t i = 0; i < st.ctx->opts.key_batch; ++i) {
    auto key = random_key();
    // 62^7 keys make a collision rare; the bloom filters make the check cheap.
    if (drawn.count(key) || st.aliases_in_flight.count(key) || st.ctx->store->key_taken(key, err))
      continue;
    drawn.insert(key);
    st.ctx->store->reserve(ws, key);
    batch.push_back(std::move(key));
  }
  auto fail_waiting = [self](const fault& f) {
    auto waiting = std::move(self->state.waiting);
    self->state.waiting.clear();
    for (auto& w : waiting)
      w.first.reply(f, {}, {});
  };
  if (err) {
    st.refilling = false;
    fail_waiting(err);
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
        for (auto& [req, link] : waiting)
          create_with_pool_key(self, std::move(req), std::move(link));
      },
      [self, fail_waiting](caf::error& e) {
        self->state.refilling = false;
        spdlog::error("key pool refill failed: {}", to_fault(e).message);
        fail_waiting(to_fault(e));
      });
}

void create(service_actor* self, link_create req) {
  auto& st = self->state;
  pb::StoredLink link;
  if (auto err = prepare(req, link))
    return req.reply(err, {}, {});
  auto& alias = req.request.custom_alias();
  if (alias.empty())
    return create_with_pool_key(self, std::move(req), std::move(link));
  if (auto err = check_alias(alias, st.ctx->reserved_segments))
    return req.reply(err, {}, {});
  fault err;
  if (st.aliases_in_flight.count(alias) || st.ctx->store->key_taken(alias, err)) {
    if (err)
      return req.reply(err, {}, {});
    return req.reply(make_fault(errc::conflict, "custom_alias \"" + alias + "\" is taken"), {},
                     {});
  }
  st.aliases_in_flight.insert(alias);
  std::string key = alias;
  write_link(self, key, link, std::move(req),
             [self, key] { self->state.aliases_in_flight.erase(key); });
}

void remove(service_actor* self, link_delete req) {
  auto& ctx = *self->state.ctx;
  fault err;
  auto link = ctx.store->get(req.key, err);
  if (err)
    return req.reply(err);
  if (!link || link->state() != pb::StoredLink::LIVE)
    return req.reply(make_fault(errc::not_found, "no link " + req.key));
  if (link->owner_id() != req.user && !req.admin)
    return req.reply(make_fault(errc::forbidden, "only the link's owner or an admin may delete it"));
  storage::write_set ws;
  ctx.store->put_tombstone(ws, req.key, *link, pb::StoredLink::DELETED);
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, req]() {
        self->state.ctx->cache.erase(req.key);
        self->send(self->state.ctx->aggregator, delete_atom_v, req.key);
        instruments().deleted.inc();
        req.reply({});
      },
      [req](caf::error& e) { req.reply(to_fault(e)); });
}

void purge(service_actor* self) {
  auto& ctx = *self->state.ctx;
  auto now = unix_ms();
  fault err;
  auto keys = ctx.store->expired_keys(now, purge_batch, err);
  storage::write_set ws;
  std::vector<std::string> purged;
  for (auto& key : keys) {
    auto link = ctx.store->get(key, err);
    if (err)
      break;
    if (link && link->state() == pb::StoredLink::LIVE) {
      ctx.store->put_tombstone(ws, key, *link, pb::StoredLink::EXPIRED);
      purged.push_back(key);
    }
  }
  auto again = purged.size() == purge_batch ? std::chrono::milliseconds{100}
                                            : std::chrono::milliseconds{ctx.opts.purge_interval};
  if (err)
    spdlog::error("link purge: {}", err.message);
  if (purged.empty()) {
    self->delayed_send(self, again, purge_atom_v);
    return;
  }
  self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then(
      [self, purged, again]() {
        for (auto& key : purged) {
          self->state.ctx->cache.erase(key);
          self->send(self->state.ctx->aggregator, delete_atom_v, key);
        }
        instruments().purged.inc(purged.size());
        self->delayed_send(self, again, purge_atom_v);
      },
      [self, again](caf::error& e) {
        spdlog::error("link purge: {}", to_fault(e).message);
        self->delayed_send(self, again, purge_atom_v);
      });
}

} // namespace

caf::actor spawn_link_service(caf::actor_system& sys, links_context_ptr ctx) {
  return sys.spawn([ctx](service_actor* self) -> caf::behavior {
    self->state.ctx = ctx;
    fault err;
    for (auto& key : ctx->store->reserved_keys(err))
      self->state.pool.push_back(std::move(key));
    if (err)
      spdlog::error("key pool: previous reservations unreadable: {}", err.message);
    instruments().pool.set(static_cast<int64_t>(self->state.pool.size()));
    self->send(self, purge_atom_v);
    return {
      [self](create_atom, link_create& req) { create(self, std::move(req)); },
      [self](delete_atom, link_delete& req) { remove(self, std::move(req)); },
      [self](purge_atom) { purge(self); },
    };
  });
}

} // namespace parley::links
