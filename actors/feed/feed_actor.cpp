#include "actors/feed/feed_actor.hpp"

#include "actors/feed/feed_metrics.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/feed_rules.hpp"
#include "actors/feed/ranking.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "common/clock.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <limits>
#include <optional>
#include <unordered_map>
#include <unordered_set>

namespace parley::feed {

namespace {

// Rankings kept per user for ranked cursors (20 KB each at 500 items); an older cursor's
// ranking is recomputed.
constexpr size_t max_snapshots = 2;
constexpr size_t max_affinity_authors = 1000;

struct ranked_snapshot {
  std::string id;
  int64_t as_of_ms = 0;
  std::vector<std::pair<timeline_entry, double>> items;  // ranked order
};

struct feed_state {
  feed_context_ptr ctx;
  std::string user;
  std::unordered_set<std::string> followees;
  bool followees_loaded = false;
  std::deque<ranked_snapshot> snapshots;  // newest last
  static inline const char* name = "parley.feed";
};

// The registry's passivate_atom is part of the entity contract, not of the interface.
using feed_impl = feed_api::extend<caf::reacts_to<passivate_atom>>;
using feed_actor = feed_impl::stateful_pointer<feed_state>;

// A FeedQuery, checked: what one page asks for.
struct page_query {
  feed_mode mode = feed_mode::ranked;
  size_t limit = 20;
  std::optional<feed_cursor> cursor;
};

fault parse_query(const pb::FeedQuery& in, page_query& out) {
  switch (in.mode()) {
    case pb::FeedQuery::RANKED: out.mode = feed_mode::ranked; break;
    case pb::FeedQuery::CHRONOLOGICAL: out.mode = feed_mode::chronological; break;
    default: return make_fault(errc::bad_request, "unknown feed mode " + std::to_string(in.mode()));
  }
  out.limit = page_limit(in.limit(), 20);
  if (in.cursor().empty())
    return {};
  feed_cursor c;
  if (auto err = parse_cursor(in.cursor(), out.mode, c))
    return err;
  out.cursor = std::move(c);
  return {};
}

fault load_followees(feed_actor self) {
  auto& st = self->state;
  if (st.followees_loaded)
    return {};
  auto all = st.ctx->store->following(st.user, {}, 0);
  if (!all)
    return all.error();
  st.followees.clear();
  for (auto& e : *all)
    st.followees.insert(std::move(e.user_id));
  st.followees_loaded = true;
  return {};
}

// The user's own posts belong in their feed too.
template <class F>
void for_each_author(feed_state& st, F fn) {
  fn(st.user);
  for (auto& a : st.followees)
    fn(a);
}

// The timeline from the store, for a user who had none (new, returning, or after an
// unfollow). The empty timeline is opened first: from then on fan-out fills it and the
// follow-graph actor tells this actor about follow changes, so neither a post nor a follow that
// lands while the store is read is missed. Answers the entries, newest first.
fault rebuild(feed_actor self, int64_t now, std::vector<timeline_entry>& out) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  ctx.timelines.open(st.user, now);
  st.followees_loaded = false;
  auto err = load_followees(self);
  std::vector<timeline_entry> entries;
  for_each_author(st, [&](const std::string& author) {
    if (err)
      return;
    auto posts = ctx.store->recent_posts(author, ctx.opts.posts_per_author, false);
    if (!posts) {
      err = posts.error();
      return;
    }
    for (auto& p : *posts)
      if (p.fanned_out)
        entries.push_back(timeline_entry::make(p.post_id, p.created_ms));
  });
  if (err) {
    ctx.timelines.drop(st.user);  // the next read tries again
    return err;
  }
  ctx.timelines.merge(st.user, entries, ctx.opts.max_items);
  instruments().rebuilds.inc();
  // Read back with what fan-out added meanwhile; if the timeline expired at once (only with
  // feed.active_days = 0) this answer still gets what the store had.
  if (!ctx.timelines.read(st.user, now, now - ctx.opts.active_window_ms(), out))
    out = merge_candidates(std::move(entries), {}, ctx.opts.max_items);
  return {};
}

// The recent pulled posts of `author`, from memory when possible (pulled_posts.hpp).
result<post_list> pulled_of(feed_context& ctx, const std::string& author) {
  auto [cached, generation] = ctx.pulled_recent.find(author);
  if (cached)
    return cached;
  auto posts = ctx.store->recent_posts(author, ctx.opts.posts_per_author, true);
  if (!posts)
    return std::move(posts).take_error();
  auto list = std::make_shared<std::vector<timeline_entry>>();
  for (auto& p : *posts)
    list->push_back(timeline_entry::make(p.post_id, p.created_ms));
  ctx.pulled_recent.fill(author, generation, list);
  return post_list{std::move(list)};
}

// Timeline plus pulled authors' recent posts created at or before `as_of`, newest first,
// without duplicates, cut to the feed's depth.
fault candidates(feed_actor self, int64_t now, int64_t as_of, std::vector<timeline_entry>& out) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  std::vector<timeline_entry> timeline;
  if (!ctx.timelines.read(st.user, now, now - ctx.opts.active_window_ms(), timeline)) {
    if (auto err = rebuild(self, now, timeline))
      return err;
  } else if (auto err = load_followees(self)) {
    return err;
  }
  std::vector<timeline_entry> pulled;
  fault err;
  for_each_author(st, [&](const std::string& author) {
    if (err || !ctx.pulled.contains(author))
      return;
    auto list = pulled_of(ctx, author);
    if (!list) {
      err = list.error();
      return;
    }
    pulled.insert(pulled.end(), (*list)->begin(), (*list)->end());
  });
  if (err)
    return err;
  // Posts after `as_of` (a ranked cursor's time) must not take the depth's slots.
  auto later = [as_of](const timeline_entry& e) { return e.created_ms > as_of; };
  timeline.erase(std::remove_if(timeline.begin(), timeline.end(), later), timeline.end());
  pulled.erase(std::remove_if(pulled.begin(), pulled.end(), later), pulled.end());
  out = merge_candidates(std::move(timeline), pulled, ctx.opts.max_items);
  return {};
}

// The post if the reader may see it now: it exists and its author is followed (or the reader);
// null if not, the storage fault if it cannot be read.
result<post_ptr> visible(feed_actor self, const timeline_entry& e) {
  auto& st = self->state;
  auto post = load_post(*st.ctx, std::string_view{e.id.data(), e.id.size()});
  if (!post || !*post)
    return post;
  auto& author = (*post)->author_id();
  if (author != st.user && st.followees.count(author) == 0)
    return post_ptr{};
  return post;
}

rank_candidate to_candidate(const timeline_entry& e, const pb::StoredPost& post) {
  rank_candidate c;
  c.post_id = std::string_view{e.id.data(), e.id.size()};
  c.author = post.author_id();
  c.created_ms = post.created_ms();
  c.likes = post.likes();
  c.comments = post.comments();
  c.shares = post.shares();
  return c;
}

void add_item(pb::FeedPage& page, const timeline_entry& e, const pb::StoredPost& post,
              double score) {
  auto* item = page.add_items();
  *item->mutable_post() = to_public(e.post_id(), post);
  item->set_score(score);
}

fault chronological_page(feed_actor self, const page_query& q, int64_t now,
                         const std::vector<timeline_entry>& cands, pb::FeedPage& page) {
  auto& st = self->state;
  auto affinity = st.ctx->store->affinities(st.user, max_affinity_authors);
  if (!affinity)
    return affinity.error();
  size_t i = q.cursor ? chronological_start(cands, *q.cursor) : 0;
  for (; i < cands.size(); ++i) {
    auto read = visible(self, cands[i]);
    if (!read)
      return read.error();
    auto& post = *read;
    if (!post)
      continue;
    auto it = affinity->find(post->author_id());
    auto score = base_score(to_candidate(cands[i], *post), it == affinity->end() ? 0 : it->second,
                            now, st.ctx->opts.ranking);
    add_item(page, cands[i], *post, score);
    if (static_cast<size_t>(page.items_size()) == q.limit) {
      if (i + 1 < cands.size()) {
        feed_cursor next;
        next.created_ms = cands[i].created_ms;
        next.post_id = cands[i].post_id();
        page.set_next_cursor(encode_cursor(next));
      }
      break;
    }
  }
  return {};
}

// Ranks every visible candidate (all created at or before `as_of`).
fault compute_ranking(feed_actor self, const std::vector<timeline_entry>& cands, int64_t as_of,
                      ranked_snapshot& out) {
  auto& st = self->state;
  auto affinity = st.ctx->store->affinities(st.user, max_affinity_authors);
  if (!affinity)
    return affinity.error();
  // The candidates' views point into `cands` and `posts`, alive until the ranking is done.
  std::vector<rank_candidate> ranked_input;
  std::vector<timeline_entry> entries;
  std::vector<post_ptr> posts;
  ranked_input.reserve(cands.size());
  entries.reserve(cands.size());
  posts.reserve(cands.size());
  for (auto& e : cands) {
    auto post = visible(self, e);
    if (!post)
      return post.error();
    if (!*post)
      continue;
    ranked_input.push_back(to_candidate(e, **post));
    entries.push_back(e);
    posts.push_back(std::move(*post));
  }
  out.as_of_ms = as_of;
  out.items.clear();
  for (auto& r : rank(ranked_input, *affinity, as_of, st.ctx->opts.ranking))
    out.items.emplace_back(entries[r.index], r.score);
  return {};
}

fault ranked_page(feed_actor self, const page_query& q, int64_t now, pb::FeedPage& page) {
  auto& st = self->state;
  ranked_snapshot* snap = nullptr;
  if (q.cursor)
    for (auto& s : st.snapshots)
      if (s.id == q.cursor->snapshot && s.as_of_ms == q.cursor->as_of_ms)
        snap = &s;
  size_t i = q.cursor ? q.cursor->offset : 0;
  if (!snap) {
    // A first page, or a cursor whose ranking this activation does not have: the same ranking
    // again from the time the cursor names (posts since then are left for a fresh first page),
    // resumed after the item the cursor served last.
    ranked_snapshot fresh;
    fresh.id = q.cursor ? q.cursor->snapshot : new_snapshot_id();
    auto as_of = q.cursor ? q.cursor->as_of_ms : now;
    std::vector<timeline_entry> cands;
    if (auto err = candidates(self, now, as_of, cands))
      return err;
    if (auto err = compute_ranking(self, cands, as_of, fresh))
      return err;
    if (q.cursor) {
      auto last = timeline_entry::make(q.cursor->last_post_id, 0);
      for (size_t k = 0; k < fresh.items.size(); ++k)
        if (fresh.items[k].first == last)
          i = k + 1;
    }
    st.snapshots.push_back(std::move(fresh));
    if (st.snapshots.size() > max_snapshots)
      st.snapshots.pop_front();
    snap = &st.snapshots.back();
  }
  std::string last_served;
  while (i < snap->items.size() && static_cast<size_t>(page.items_size()) < q.limit) {
    auto& [entry, score] = snap->items[i++];
    auto post = visible(self, entry);  // deleted or unfollowed since the ranking: skipped
    if (!post)
      return post.error();
    if (*post) {
      add_item(page, entry, **post, score);
      last_served = entry.post_id();
    }
  }
  if (i < snap->items.size() && !last_served.empty()) {
    feed_cursor next;
    next.mode = feed_mode::ranked;
    next.as_of_ms = snap->as_of_ms;
    next.offset = i;
    next.snapshot = snap->id;
    next.last_post_id = std::move(last_served);
    page.set_next_cursor(encode_cursor(next));
  }
  return {};
}

caf::result<pb::FeedPage> answer(feed_actor self, const pb::FeedQuery& in) {
  page_query q;
  if (auto err = parse_query(in, q))
    return make_error(err);
  auto started = std::chrono::steady_clock::now();
  auto now = unix_ms();
  pb::FeedPage page;
  fault err;
  if (q.mode == feed_mode::ranked) {
    err = ranked_page(self, q, now, page);
  } else {
    std::vector<timeline_entry> cands;
    err = candidates(self, now, std::numeric_limits<int64_t>::max(), cands);
    if (!err)
      err = chronological_page(self, q, now, cands, page);
  }
  auto& m = instruments();
  (q.mode == feed_mode::ranked ? m.reads_ranked : m.reads_chronological).inc();
  m.read_seconds.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  if (err)
    return make_error(err);
  return page;
}

// A new followee's recent posts go into the timeline now; an unfollowed one's entries would keep
// taking slots, so the timeline is dropped and the next read rebuilds it.
void followees_changed(feed_actor self, const std::string& followee, bool added) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  if (st.followees_loaded) {
    if (added)
      st.followees.insert(followee);
    else
      st.followees.erase(followee);
  }
  if (!added) {
    ctx.timelines.drop(st.user);
    return;
  }
  auto posts = ctx.store->recent_posts(followee, ctx.opts.posts_per_author, false);
  if (!posts) {
    // Without them the timeline would lack the followee's posts until it expires: it is dropped
    // instead, and the next read rebuilds it (or answers the fault).
    spdlog::warn("feed of {}: posts of new followee {} unreadable, timeline dropped: {}", st.user,
                 followee, posts.error().message);
    ctx.timelines.drop(st.user);
    return;
  }
  std::vector<timeline_entry> entries;
  for (auto& p : *posts)
    if (p.fanned_out)
      entries.push_back(timeline_entry::make(p.post_id, p.created_ms));
  if (!entries.empty())
    ctx.timelines.merge(st.user, entries, ctx.opts.max_items);
}

pb::FeedInspection inspect(feed_actor self) {
  auto& st = self->state;
  pb::FeedInspection out;
  out.set_user_id(st.user);
  out.set_followees_loaded(st.followees_loaded);
  out.set_followees(static_cast<uint32_t>(st.followees.size()));
  out.set_ranked_snapshots(static_cast<uint32_t>(st.snapshots.size()));
  out.set_timeline_in_memory(st.ctx->timelines.contains(st.user));
  return out;
}

} // namespace

feed_api spawn_feed_actor(caf::actor_system& sys, feed_context_ptr ctx, std::string user) {
  return sys.spawn([ctx, user](feed_actor self) -> feed_impl::behavior_type {
    self->state.ctx = ctx;
    self->state.user = user;
    return {
      [self](read_atom, const pb::FeedQuery& q) { return answer(self, q); },
      [self](follow_atom, const pb::FollowChange& change) -> caf::result<void> {
        if (change.follower_id() != self->state.user)
          return make_error(errc::bad_request, "a follow by " + change.follower_id().substr(0, 64)
                                                 + " sent to the feed of " + self->state.user);
        followees_changed(self, change.followee_id(), change.follow());
        return caf::unit;
      },
      [self](passivate_atom) { self->quit(); },
      [self](inspect_atom) { return inspect(self); },
    };
  });
}

} // namespace parley::feed
