#include "actors/feed/feed_actor.hpp"

#include "actors/feed/feed_metrics.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/feed_rules.hpp"
#include "actors/feed/ranking.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "common/clock.hpp"
#include "common/time_ordered_id.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
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

// What a read in a cluster fetched from other nodes before it runs: the recent posts and the
// reader's affinities that other nodes' post shards keep (on a single node the read finds them
// in this node's store). Posts themselves go into the post cache (put_remote).
struct remote_view {
  bool rebuilding = false;  // the timeline was opened for a rebuild before the fetch
  std::unordered_map<std::string, std::vector<storage::feed_store::post_ref>> recent;
  std::unordered_map<std::string, uint64_t> affinity;
};

struct feed_state {
  feed_context_ptr ctx;
  std::string user;
  std::unordered_set<std::string> followees;
  bool followees_loaded = false;
  std::deque<ranked_snapshot> snapshots;  // newest last
  // In a cluster, while a read computes: what it fetched (null otherwise, and on one node).
  remote_view* view = nullptr;
  int rebuilds_in_flight = 0;  // cluster reads whose rebuild waits for other nodes
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

// Whether `author`'s posts are stored on another node (cluster).
bool author_elsewhere(const feed_state& st, const std::string& author) {
  return st.ctx->clustered()
         && !st.ctx->shard_here(id_shard(author, post_shard_count));
}

// The newest feed.posts_per_author posts of `author` (only the pulled ones: `pulled_only`):
// from this node's store, or in a cluster what the read fetched from the author's node.
result<std::vector<storage::feed_store::post_ref>>
recent_of(feed_state& st, const std::string& author, bool pulled_only) {
  if (st.view && author_elsewhere(st, author)) {
    std::vector<storage::feed_store::post_ref> out;
    auto it = st.view->recent.find(author);
    // Not fetched: a followee added while the read waited. The follow dropped the timeline, so
    // the next read rebuilds it with that author; this one goes without.
    if (it == st.view->recent.end())
      return out;
    for (auto& p : it->second)
      if (!pulled_only || !p.fanned_out)
        out.push_back(p);
    return out;
  }
  return st.ctx->store->recent_posts(author, st.ctx->opts.posts_per_author, pulled_only);
}

// The reader's affinity to each author: this node's store, and in a cluster what the other
// nodes' post shards keep.
result<std::unordered_map<std::string, uint64_t>> affinities_of(feed_state& st) {
  auto found = st.ctx->store->affinities(st.user, max_affinity_authors);
  if (!found || !st.view)
    return found;
  for (auto& [author, n] : st.view->affinity)
    found->emplace(author, n);
  return found;
}

// The timeline from the store, for a user who had none (new, returning, or after an
// unfollow). The empty timeline is opened first: from then on fan-out fills it and the
// follow-graph actor tells this actor about follow changes, so neither a post nor a follow that
// lands while the store is read is missed. Answers the entries, newest first.
// In a cluster the timeline is opened (and the followees loaded) before other nodes are asked
// for their posts (`opened`): the same rule across the wait.
fault rebuild(feed_actor self, int64_t now, std::vector<timeline_entry>& out, bool opened = false) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  fault err;
  if (!opened) {
    ctx.timelines.open(st.user, now);
    st.followees_loaded = false;
    err = load_followees(self);
  }
  std::vector<timeline_entry> entries;
  for_each_author(st, [&](const std::string& author) {
    if (err)
      return;
    auto posts = recent_of(st, author, false);
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

// The recent pulled posts of `author`, from memory when possible (pulled_posts.hpp). In a
// cluster an author of another node's shard comes with the read (not cached: the author's
// node invalidates its own cache only).
result<post_list> pulled_of(feed_state& st, const std::string& author) {
  auto& ctx = *st.ctx;
  if (st.view && author_elsewhere(st, author)) {
    auto posts = recent_of(st, author, true);
    if (!posts)
      return std::move(posts).take_error();
    auto list = std::make_shared<std::vector<timeline_entry>>();
    for (auto& p : *posts)
      list->push_back(timeline_entry::make(p.post_id, p.created_ms));
    return post_list{std::move(list)};
  }
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
  if (st.view && st.view->rebuilding) {
    if (auto err = rebuild(self, now, timeline, true))
      return err;
  } else if (!ctx.timelines.read(st.user, now, now - ctx.opts.active_window_ms(), timeline)) {
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
    auto list = pulled_of(st, author);
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
  auto affinity = affinities_of(st);
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
  auto affinity = affinities_of(st);
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

// The ranking a ranked cursor names, if this activation still has it.
ranked_snapshot* snapshot_of(feed_state& st, const page_query& q) {
  if (q.cursor)
    for (auto& s : st.snapshots)
      if (s.id == q.cursor->snapshot && s.as_of_ms == q.cursor->as_of_ms)
        return &s;
  return nullptr;
}

// `ready`: the candidates as a cluster read computed them before it hydrated them.
fault ranked_page(feed_actor self, const page_query& q, int64_t now, pb::FeedPage& page,
                  std::vector<timeline_entry>* ready = nullptr) {
  auto& st = self->state;
  ranked_snapshot* snap = snapshot_of(st, q);
  size_t i = q.cursor ? q.cursor->offset : 0;
  if (!snap) {
    // A first page, or a cursor whose ranking this activation does not have: the same ranking
    // again from the time the cursor names (posts since then are left for a fresh first page),
    // resumed after the item the cursor served last.
    ranked_snapshot fresh;
    fresh.id = q.cursor ? q.cursor->snapshot : new_snapshot_id();
    auto as_of = q.cursor ? q.cursor->as_of_ms : now;
    std::vector<timeline_entry> cands;
    if (ready)
      cands = std::move(*ready);
    else if (auto err = candidates(self, now, as_of, cands))
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

void count_read(const page_query& q, std::chrono::steady_clock::time_point started) {
  auto& m = instruments();
  (q.mode == feed_mode::ranked ? m.reads_ranked : m.reads_chronological).inc();
  m.read_seconds.observe(
    std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
}

// -- a read in a cluster ---------------------------------------------------------------------------
//
// The reader's feed actor lives on the reader's partition owner, with the reader's follows and
// timeline; the posts (and the reader's affinities) of authors whose post shards other nodes own
// are on those nodes. A read first fetches what it will need from them, one request per node
// (to one of that node's post shards, which reads its node's store), then runs as on one node:
//   1. the recent posts of the authors a rebuild reads and of followed pulled authors, and the
//      reader's affinities;
//   2. the records of the candidates it is about to show that this node does not have cached
//      (a copy from another node is used for remote_post_ms).
// A rebuild opens the timeline before the fetch, so fan-out fills it meanwhile.

constexpr auto fetch_timeout = std::chrono::seconds{10};

using view_ptr = std::shared_ptr<remote_view>;
using fetched_fn = std::function<void(fault)>;

// Runs `fn` with the fetched view in place, as the synchronous read expects it.
template <class F>
auto with_view(feed_actor self, const view_ptr& view, F fn) {
  self->state.view = view.get();
  auto result = fn();
  self->state.view = nullptr;
  return result;
}

// One request per node that owns post shards: the first shard of each node, and the node's
// share of `keys` (authors or post ids, each with its shard), for `ask(shard, keys)`.
// `done(fault)` once every node answered (the first failure wins). Nodes without keys are
// asked only if `every_node`.
template <class Ask>
void ask_nodes(feed_actor self, const std::vector<std::pair<std::string, uint32_t>>& keys,
               bool every_node, Ask ask, fetched_fn done) {
  auto& ctx = *self->state.ctx;
  std::map<std::string, uint32_t> first_shard;  // node -> a post shard it owns
  std::map<uint32_t, std::string> node_of;       // post shard -> its node (remote ones)
  for (uint32_t shard = 0; shard < post_shard_count; ++shard) {
    auto where = ctx.router->locate(post_shard_kind, std::to_string(shard));
    if (where.at == runtime::entity_location::where::remote) {
      first_shard.emplace(where.node, shard);
      node_of[shard] = where.node;
    } else if (where.at == runtime::entity_location::where::unavailable) {
      node_of[shard] = {};
    }
  }
  std::map<std::string, std::vector<std::string>> by_node;
  for (auto& [key, shard] : keys) {
    auto it = node_of.find(shard);
    if (it == node_of.end())
      continue;  // this node's
    if (it->second.empty())
      return done(make_fault(errc::unavailable, "post shard " + std::to_string(shard)
                                                  + " has no live owner now; retry shortly"));
    by_node[it->second].push_back(key);
  }
  if (every_node)
    for (auto& [node, shard] : first_shard)
      by_node[node];
  if (by_node.empty())
    return done({});
  struct pending {
    size_t left;
    fault failed;
    fetched_fn done;
  };
  auto st = std::make_shared<pending>(pending{by_node.size(), {}, std::move(done)});
  for (auto& [node, list] : by_node)
    ask(first_shard.at(node), std::move(list), [st](fault err) {
      if (err && !st->failed)
        st->failed = std::move(err);
      if (--st->left == 0)
        st->done(std::move(st->failed));
    });
}

// Step 1: recent posts of `authors` (those stored elsewhere) and the reader's affinities.
void fetch_authors(feed_actor self, const view_ptr& view, const std::vector<std::string>& authors,
                   bool affinity, fetched_fn done) {
  auto& st = self->state;
  std::vector<std::pair<std::string, uint32_t>> keys;
  for (auto& a : authors)
    if (author_elsewhere(st, a))
      keys.emplace_back(a, id_shard(a, post_shard_count));
  auto posts_per_author = static_cast<uint32_t>(st.ctx->opts.posts_per_author);
  auto reader = st.user;
  auto ask = [self, view, posts_per_author, reader, affinity](uint32_t shard,
                                                            std::vector<std::string> list,
                                                            fetched_fn settle) {
    auto where = self->state.ctx->post_shard(shard);
    auto parts = std::make_shared<int>((list.empty() ? 0 : 1) + (affinity ? 1 : 0));
    auto failed = std::make_shared<fault>();
    auto part_done = [parts, failed, settle](fault err) {
      if (err && !*failed)
        *failed = std::move(err);
      if (--*parts == 0)
        settle(std::move(*failed));
    };
    if (*parts == 0)
      return settle({});
    if (!list.empty()) {
      pb::AuthorsQuery q;
      for (auto& a : list)
        q.add_authors(std::move(a));
      q.set_limit(posts_per_author);
      runtime::request_entity<post_shard_api>(
        self, where, fetch_timeout,
        [view, part_done](pb::AuthorsPosts& found) {
          for (auto& a : *found.mutable_authors()) {
            auto& list = view->recent[a.author()];
            list.clear();
            for (auto& p : *a.mutable_posts())
              list.push_back({std::move(*p.mutable_post_id()), p.created_ms(), p.fanned_out()});
          }
          part_done({});
        },
        [part_done](caf::error& e) { part_done(to_fault(e)); }, read_atom_v, std::move(q));
    }
    if (affinity) {
      pb::AffinityQuery q;
      q.set_reader(reader);
      q.set_limit(static_cast<uint32_t>(max_affinity_authors));
      runtime::request_entity<post_shard_api>(
        self, where, fetch_timeout,
        [view, part_done](pb::Affinities& found) {
          for (auto& [author, n] : found.by_author())
            view->affinity.emplace(author, n);
          part_done({});
        },
        [part_done](caf::error& e) { part_done(to_fault(e)); }, read_atom_v, std::move(q));
    }
  };
  ask_nodes(self, keys, affinity, std::move(ask), std::move(done));
}

// Step 2: the records of `entries` that are stored elsewhere and not cached here.
void fetch_posts(feed_actor self, const std::vector<timeline_entry>& entries, fetched_fn done) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  std::vector<std::pair<std::string, uint32_t>> keys;
  for (auto& e : entries) {
    std::string_view id{e.id.data(), e.id.size()};
    auto shard = id_shard(id, post_shard_count);
    if (!ctx.shard_here(shard) && !ctx.posts.find(id))
      keys.emplace_back(std::string{id}, shard);
  }
  auto ask = [self](uint32_t shard, std::vector<std::string> ids, fetched_fn settle) {
    pb::PostsQuery q;
    for (auto& id : ids)
      q.add_post_ids(std::move(id));
    runtime::request_entity<post_shard_api>(
      self, self->state.ctx->post_shard(shard), fetch_timeout,
      [self, settle](pb::StoredPosts& found) {
        auto& cache = self->state.ctx->posts;
        auto until = unix_ms() + remote_post_ms;
        for (auto& rec : *found.mutable_posts())
          cache.put_remote(rec.post_id(),
                           rec.found() ? std::make_shared<const pb::StoredPost>(
                                           std::move(*rec.mutable_post()))
                                       : post_ptr{},
                           until);
        settle({});
      },
      [settle](caf::error& e) { settle(to_fault(e)); }, read_atom_v, std::move(q));
  };
  ask_nodes(self, keys, false, std::move(ask), std::move(done));
}

// The entries a page of `q` may show, from `cands` (or the snapshot its cursor names).
std::vector<timeline_entry> to_hydrate(feed_state& st, const page_query& q,
                                       const std::vector<timeline_entry>& cands) {
  if (auto* snap = q.mode == feed_mode::ranked ? snapshot_of(st, q) : nullptr) {
    std::vector<timeline_entry> out;
    for (size_t i = q.cursor->offset; i < snap->items.size(); ++i)
      out.push_back(snap->items[i].first);
    return out;
  }
  if (q.mode == feed_mode::chronological && q.cursor)
    return {cands.begin() + static_cast<std::ptrdiff_t>(chronological_start(cands, *q.cursor)),
            cands.end()};
  return cands;
}

void answer_in_cluster(feed_actor self, page_query q,
                       caf::typed_response_promise<pb::FeedPage> rp,
                       std::chrono::steady_clock::time_point started) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto now = unix_ms();
  auto view = std::make_shared<remote_view>();
  bool needs_candidates = !(q.mode == feed_mode::ranked && snapshot_of(st, q));
  std::vector<std::string> authors;
  if (needs_candidates) {
    std::vector<timeline_entry> ignored;
    bool have = ctx.timelines.read(st.user, now, now - ctx.opts.active_window_ms(), ignored);
    if (!have) {
      ctx.timelines.open(st.user, now);
      st.followees_loaded = false;
    }
    view->rebuilding = !have || st.rebuilds_in_flight > 0;
    if (auto err = load_followees(self)) {
      if (!have)
        ctx.timelines.drop(st.user);
      rp.deliver(make_error(err));
      return;
    }
    for_each_author(st, [&](const std::string& author) {
      if (view->rebuilding || ctx.pulled.contains(author))
        authors.push_back(author);
    });
  }
  auto fail = [self, view, rp](const fault& err) mutable {
    if (view->rebuilding && --self->state.rebuilds_in_flight == 0 && err)
      self->state.ctx->timelines.drop(self->state.user);  // the next read tries again
    rp.deliver(make_error(err));
  };
  if (view->rebuilding)
    ++st.rebuilds_in_flight;
  fetch_authors(self, view, authors, needs_candidates, [=](fault err) mutable {
    if (err)
      return fail(err);
    auto& st = self->state;
    auto as_of = q.mode == feed_mode::chronological ? std::numeric_limits<int64_t>::max()
                 : q.cursor                         ? q.cursor->as_of_ms
                                                    : now;
    auto cands = std::make_shared<std::vector<timeline_entry>>();
    if (needs_candidates)
      err = with_view(self, view, [&] { return candidates(self, now, as_of, *cands); });
    if (view->rebuilding)
      --st.rebuilds_in_flight;
    view->rebuilding = false;
    if (err) {
      rp.deliver(make_error(err));
      return;
    }
    fetch_posts(self, to_hydrate(st, q, *cands), [=](fault err) mutable {
      if (err) {
        rp.deliver(make_error(err));
        return;
      }
      pb::FeedPage page;
      err = with_view(self, view, [&] {
        return q.mode == feed_mode::ranked ? ranked_page(self, q, now, page,
                                                         needs_candidates ? cands.get() : nullptr)
                                           : chronological_page(self, q, now, *cands, page);
      });
      count_read(q, started);
      if (err) {
        rp.deliver(make_error(err));
        return;
      }
      rp.deliver(std::move(page));
    });
  });
}

caf::result<pb::FeedPage> answer(feed_actor self, const pb::FeedQuery& in) {
  page_query q;
  if (auto err = parse_query(in, q))
    return make_error(err);
  auto started = std::chrono::steady_clock::now();
  if (self->state.ctx->clustered()) {
    auto rp = self->make_response_promise<pb::FeedPage>();
    answer_in_cluster(self, std::move(q), rp, started);
    return rp;
  }
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
  count_read(q, started);
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
  // In a cluster a followee's posts may be on another node: the next read rebuilds with them.
  if (!added || author_elsewhere(st, followee)) {
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
