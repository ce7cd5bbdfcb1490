#include "actors/feed/fanout_worker.hpp"

#include "actors/feed/feed_metrics.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/live_subscriptions.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/metrics.hpp"
#include "common/clock.hpp"
#include "common/identifiers.hpp"
#include "common/time_ordered_id.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <map>

namespace parley::feed {

namespace {

constexpr size_t followers_per_page = 1000;

struct worker_state {
  feed_context_ptr ctx;
  static inline const char* name = "parley.fanout";
};

using worker = fanout_api::stateful_pointer<worker_state>;

class live_pusher {
public:
  live_pusher(feed_context& ctx, const pb::FanoutJob& job) : ctx_(ctx), job_(job) {}

  void to(const std::string& user) {
    auto sinks = ctx_.live.sinks_of(user);
    if (sinks.empty())
      return;
    if (!frame_) {
      frame_ = std::make_unique<pb::ServerFrame>();
      *frame_->mutable_feed_item()->mutable_post() = to_public(job_.post_id(), job_.post());
    }
    for (auto& sink : sinks) {
      sink->send(*frame_, sink->preferred_format());
      instruments().live_items.inc();
    }
  }

private:
  feed_context& ctx_;
  const pb::FanoutJob& job_;
  std::unique_ptr<pb::ServerFrame> frame_;  // built for the first subscriber only
};

void finish(const pb::FanoutJob& job) {
  auto elapsed = std::chrono::steady_clock::now().time_since_epoch().count() - job.started_ns();
  instruments().fanout_seconds.observe(static_cast<double>(elapsed) / 1e9);
}

// A pulled post: readers merge it; only subscribed followers (the author's watchers) need a
// frame now. Each watcher is checked against the store: an unfollow may be a moment ahead.
void push_pulled(feed_context& ctx, const pb::FanoutJob& job, bool here = true) {
  const auto& author = job.post().author_id();
  live_pusher live{ctx, job};
  if (here)
    live.to(author);
  if (job.newly_pulled())
    author_pulled_live(ctx, author);
  for (auto& user : ctx.live.watchers_of(author)) {
    auto follows = ctx.store->follows(user, author);
    if (!follows) {
      spdlog::error("fan-out: {}", follows.error().message);
      break;
    }
    if (*follows)
      live.to(user);
  }
  finish(job);
}

// Puts the post into the timelines of `users` of this node (and pushes live items).
class timeline_inserter {
public:
  timeline_inserter(feed_context& ctx, const pb::FanoutJob& job)
    : ctx_(ctx),
      live_(ctx, job),
      entry_(timeline_entry::make(job.post_id(), job.post().created_ms())),
      active_since_(unix_ms() - ctx.opts.active_window_ms()) {}

  void operator()(const std::string& user) {
    auto& m = instruments();
    switch (ctx_.timelines.insert(user, entry_, active_since_, ctx_.opts.max_items)) {
      case timeline_table::insert_result::inserted: m.fanout_inserts.inc(); break;
      case timeline_table::insert_result::inactive: m.fanout_inactive.inc(); break;
      case timeline_table::insert_result::duplicate: break;
    }
    live_.to(user);
  }

private:
  feed_context& ctx_;
  live_pusher live_;
  timeline_entry entry_;
  int64_t active_since_;
};

metrics::counter& deliveries_sent() {
  static auto& c = metrics::global().get_counter(
    "feed_fanout_deliveries_total", "Fan-out batches sent to the node that owns their followers "
                                    "(cluster; one per node and page of followers)");
  return c;
}

// A delivery to every other node (cluster): one message each.
void tell_every_node(worker self, const pb::FanoutDelivery& d) {
  auto& ctx = *self->state.ctx;
  for (auto& [node, peer] : ctx.router->others(fanout_service)) {
    deliveries_sent().inc();
    self->send(caf::actor_cast<fanout_api>(peer), fanout_atom_v, d);
  }
}

void fan_out_page(worker self, pb::FanoutJob& job) {
  auto& ctx = *self->state.ctx;
  const auto& author = job.post().author_id();
  timeline_inserter insert{ctx, job};
  if (job.after().empty())
    insert(author);  // own posts are part of one's feed
  auto page = ctx.store->followers(author, job.after(), followers_per_page);
  if (!page) {
    // The post is durable and readers rebuild from the store: a lost fan-out costs freshness
    // for active followers until their next rebuild, never the post.
    spdlog::error("fan-out of {} stopped: {}", job.post_id(), page.error().message);
    return;
  }
  if (!ctx.clustered()) {
    for (auto& f : *page)
      insert(f.user_id);
  } else {
    // Followers of this node's partitions here; the others in one delivery per node.
    std::map<std::string, pb::FanoutDelivery> remote;
    for (auto& f : *page) {
      auto where = ctx.router->locate(feed_kind, f.user_id);
      if (where.at == runtime::entity_location::where::local) {
        insert(f.user_id);
        continue;
      }
      if (where.at == runtime::entity_location::where::unavailable)
        continue;  // no live owner: that follower's feed is rebuilt on their next read
      auto& d = remote[where.node];
      d.add_users(std::move(f.user_id));
    }
    for (auto& [node, d] : remote) {
      auto peer = ctx.router->at(fanout_service, node);
      if (!peer)
        continue;
      d.set_post_id(job.post_id());
      *d.mutable_post() = job.post();
      deliveries_sent().inc();
      self->send(caf::actor_cast<fanout_api>(peer), fanout_atom_v, std::move(d));
    }
  }
  if (page->size() < followers_per_page)
    return finish(job);
  job.set_after(page->back().user_id);
  // The rest after the messages already queued: other authors' posts are not held up.
  self->send(self, fanout_atom_v, std::move(job));
}

// Timelines hold 20-byte post ids; anything else cannot be a post of a post shard.
bool acceptable(const std::string& post_id, const pb::StoredPost& post) {
  if (valid_time_ordered_id(post_id) && valid_user_id(post.author_id()))
    return true;
  spdlog::error("fan-out: refused a post \"{}\" by \"{}\"", post_id.substr(0, 64),
                post.author_id().substr(0, 64));
  return false;
}

// In a cluster: a post another node's fan-out sends this one.
void delivered(worker self, pb::FanoutDelivery& d) {
  auto& ctx = *self->state.ctx;
  auto post = std::make_shared<const pb::StoredPost>(d.post());
  ctx.posts.put_remote(d.post_id(), post, unix_ms() + remote_post_ms);
  pb::FanoutJob job;
  job.set_post_id(d.post_id());
  *job.mutable_post() = d.post();
  if (!d.pulled()) {
    timeline_inserter insert{ctx, job};
    for (auto& user : d.users())
      insert(user);
    return;
  }
  // A pulled post: readers here merge the author's posts from now on (the author stays pulled,
  // as on the author's node), never from a stale list.
  const auto& author = d.post().author_id();
  bool newly = !ctx.pulled.contains(author);
  ctx.pulled.add(author);
  ctx.pulled_recent.invalidate(author);
  if (newly) {
    storage::write_set ws;
    ctx.store->mark_pulled(ws, author);
    self->request(ctx.storage_writer, caf::infinite, write_atom_v, std::move(ws))
      .then([] {}, [author](caf::error& e) {
        spdlog::warn("fan-out: pulled author {} not stored here (known until restart): {}",
                     author, to_fault(e).message);
      });
  }
  job.set_newly_pulled(newly);
  push_pulled(ctx, job, false);
}

} // namespace

fanout_api spawn_fanout_worker(caf::actor_system& sys, feed_context_ptr ctx) {
  return sys.spawn([ctx](worker self) -> fanout_api::behavior_type {
    self->state.ctx = ctx;
    return {
      [self](fanout_atom, pb::FanoutJob& job) {
        if (!acceptable(job.post_id(), job.post()))
          return;
        if (job.post().fanned_out()) {
          fan_out_page(self, job);
          return;
        }
        if (self->state.ctx->clustered() && job.after().empty()) {
          pb::FanoutDelivery d;
          d.set_post_id(job.post_id());
          *d.mutable_post() = job.post();
          d.set_pulled(true);
          tell_every_node(self, d);
        }
        push_pulled(*self->state.ctx, job);
      },
      [self](fanout_atom, pb::FanoutDelivery& d) {
        if (acceptable(d.post_id(), d.post()))
          delivered(self, d);
      },
    };
  });
}

fanout_api spawn_fanout_service(caf::actor_system& sys, feed_context_ptr ctx) {
  return sys.spawn([ctx](fanout_api::pointer self) -> fanout_api::behavior_type {
    auto worker_for = [ctx](const std::string& author) -> const fanout_api& {
      return ctx->fanout[id_shard(author, static_cast<uint32_t>(ctx->fanout.size()))];
    };
    return {
      [self, worker_for](fanout_atom, pb::FanoutJob& job) {
        self->send(worker_for(job.post().author_id()), fanout_atom_v, std::move(job));
      },
      [self, worker_for](fanout_atom, pb::FanoutDelivery& d) {
        self->send(worker_for(d.post().author_id()), fanout_atom_v, std::move(d));
      },
    };
  });
}

} // namespace parley::feed
