#include "actors/feed/fanout_worker.hpp"

#include "actors/chat/cluster_view.hpp"

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

metrics::counter& live_batches_sent() {
  static auto& c = metrics::global().get_counter(
    "feed_live_batches_sent_total", "Live feed items sent to another node's connections "
                                    "(cluster; one message per node and page of followers)");
  return c;
}

// Pushes a post's feed_item frame to the subscribed connections of the users it is given:
// this node's at once. With reach::cluster (on the node that decided who gets the post) it also
// collects, from the replicated routing table, the nodes where those users have sessions, and
// flush() sends each node one FeedLiveItems for all of its users; that node pushes to its own
// connections only (reach::this_node), so an item never crosses twice. On a single node
// `sessions` is null and only the local push is left.
class live_pusher {
public:
  enum class reach { cluster, this_node };

  live_pusher(feed_context& ctx, const std::string& post_id, const pb::StoredPost& post,
              reach r = reach::cluster)
    : ctx_(ctx), post_id_(post_id), post_(post), reach_(r) {}

  void to(const std::string& user) {
    push_here(user);
    if (reach_ != reach::cluster || !ctx_.sessions)
      return;
    for (auto& s : ctx_.sessions->sessions_of(user)) {
      auto& items = remote_[s.node_id];
      // A user's sessions come together: one entry per user and node.
      if (items.users_size() == 0 || items.users(items.users_size() - 1) != user)
        items.add_users(user);
    }
  }

  // One message per node collected since the last flush.
  void flush(worker self) {
    for (auto& [node, items] : remote_) {
      auto peer = ctx_.router->at(fanout_service, node);
      if (!peer)
        continue;  // no longer a live member: its sessions leave the table with it
      items.set_post_id(post_id_);
      *items.mutable_post() = post_;
      live_batches_sent().inc();
      self->send(caf::actor_cast<fanout_api>(peer), fanout_atom_v, std::move(items));
    }
    remote_.clear();
  }

private:
  void push_here(const std::string& user) {
    auto sinks = ctx_.live.sinks_of(user);
    if (sinks.empty())
      return;
    if (!frame_) {
      frame_ = std::make_unique<pb::ServerFrame>();
      *frame_->mutable_feed_item()->mutable_post() = to_public(post_id_, post_);
    }
    for (auto& sink : sinks) {
      sink->send(*frame_, sink->preferred_format());
      instruments().live_items.inc();
    }
  }

  feed_context& ctx_;
  const std::string& post_id_;
  const pb::StoredPost& post_;
  reach reach_;
  std::unique_ptr<pb::ServerFrame> frame_;  // built for the first subscriber only
  std::map<std::string, pb::FeedLiveItems> remote_;  // by node
};

void finish(const pb::FanoutJob& job) {
  auto elapsed = std::chrono::steady_clock::now().time_since_epoch().count() - job.started_ns();
  instruments().fanout_seconds.observe(static_cast<double>(elapsed) / 1e9);
}

// A pulled post: readers merge it; only subscribed followers (the author's watchers) need a
// frame now. Each watcher is checked against the store: an unfollow may be a moment ahead.
void push_pulled(worker self, const pb::FanoutJob& job, bool here = true) {
  auto& ctx = *self->state.ctx;
  const auto& author = job.post().author_id();
  live_pusher live{ctx, job.post_id(), job.post()};
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
  live.flush(self);
  finish(job);
}

// Puts the post into the timelines of `users` of this node (and pushes live items).
class timeline_inserter {
public:
  timeline_inserter(feed_context& ctx, const pb::FanoutJob& job)
    : ctx_(ctx),
      live_(ctx, job.post_id(), job.post()),
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

  // Sends the live items for other nodes' connections collected so far.
  void flush(worker self) { live_.flush(self); }

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
    insert.flush(self);  // the author's own connections elsewhere
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
  insert.flush(self);
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

// In a cluster: live items for this node's connections, decided by the node that holds the
// users' records (it checked the follows); only connections that subscribed here get one.
void live_items(worker self, const pb::FeedLiveItems& items) {
  live_pusher live{*self->state.ctx, items.post_id(), items.post(),
                   live_pusher::reach::this_node};
  for (auto& user : items.users())
    live.to(user);
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
    insert.flush(self);
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
  push_pulled(self, job, false);
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
        push_pulled(self, job);
      },
      [self](fanout_atom, pb::FanoutDelivery& d) {
        if (acceptable(d.post_id(), d.post()))
          delivered(self, d);
      },
      [self](fanout_atom, pb::FeedLiveItems& items) {
        if (acceptable(items.post_id(), items.post()))
          live_items(self, items);
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
      // Through the author's worker too, so one author's items keep their order.
      [self, worker_for](fanout_atom, pb::FeedLiveItems& items) {
        self->send(worker_for(items.post().author_id()), fanout_atom_v, std::move(items));
      },
    };
  });
}

} // namespace parley::feed
