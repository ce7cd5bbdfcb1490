#include "actors/feed/fanout_worker.hpp"

#include "actors/feed/feed_metrics.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/live_subscriptions.hpp"
#include "actors/runtime/atoms.hpp"
#include "common/clock.hpp"
#include "common/identifiers.hpp"
#include "common/time_ordered_id.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>

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
void push_pulled(feed_context& ctx, const pb::FanoutJob& job) {
  const auto& author = job.post().author_id();
  live_pusher live{ctx, job};
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

void fan_out_page(worker self, pb::FanoutJob& job) {
  auto& ctx = *self->state.ctx;
  auto& m = instruments();
  auto cap = ctx.opts.max_items;
  auto active_since = unix_ms() - ctx.opts.active_window_ms();
  const auto& author = job.post().author_id();
  auto entry = timeline_entry::make(job.post_id(), job.post().created_ms());
  live_pusher live{ctx, job};
  auto insert = [&](const std::string& user) {
    switch (ctx.timelines.insert(user, entry, active_since, cap)) {
      case timeline_table::insert_result::inserted: m.fanout_inserts.inc(); break;
      case timeline_table::insert_result::inactive: m.fanout_inactive.inc(); break;
      case timeline_table::insert_result::duplicate: break;
    }
    live.to(user);
  };
  if (job.after().empty())
    insert(author);  // own posts are part of one's feed
  auto page = ctx.store->followers(author, job.after(), followers_per_page);
  if (!page) {
    // The post is durable and readers rebuild from the store: a lost fan-out costs freshness
    // for active followers until their next rebuild, never the post.
    spdlog::error("fan-out of {} stopped: {}", job.post_id(), page.error().message);
    return;
  }
  for (auto& f : *page)
    insert(f.user_id);
  if (page->size() < followers_per_page)
    return finish(job);
  job.set_after(page->back().user_id);
  // The rest after the messages already queued: other authors' posts are not held up.
  self->send(self, fanout_atom_v, std::move(job));
}

} // namespace

fanout_api spawn_fanout_worker(caf::actor_system& sys, feed_context_ptr ctx) {
  return sys.spawn([ctx](worker self) -> fanout_api::behavior_type {
    self->state.ctx = ctx;
    return {
      [self](fanout_atom, pb::FanoutJob& job) {
        // Timelines hold 20-byte post ids; anything else cannot be a post of a post shard.
        if (!valid_time_ordered_id(job.post_id()) || !valid_user_id(job.post().author_id())) {
          spdlog::error("fan-out: refused a job for post \"{}\" by \"{}\"",
                        job.post_id().substr(0, 64), job.post().author_id().substr(0, 64));
          return;
        }
        if (job.post().fanned_out())
          fan_out_page(self, job);
        else
          push_pulled(*self->state.ctx, job);
      },
    };
  });
}

} // namespace parley::feed
