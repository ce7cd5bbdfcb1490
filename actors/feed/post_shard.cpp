#include "actors/feed/post_shard.hpp"

#include "actors/feed/feed_metrics.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/feed_rules.hpp"
#include "actors/feed/write_behind.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
#include "common/identifiers.hpp"
#include "common/time_ordered_id.hpp"

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include <chrono>
#include <optional>
#include <utility>

namespace parley::feed {

namespace {

using user_pair = std::pair<std::string, std::string>;

struct shard_state {
  feed_context_ptr ctx;
  uint32_t shard = 0;
  // Written but maybe not yet durable (write_behind.hpp); nullopt: deleted.
  write_behind<std::string, std::optional<pb::StoredPost>> posts;
  write_behind<user_pair, bool> likes;                // (post, user)
  write_behind<std::string, pb::AuthorStats> stats;   // author
  write_behind<user_pair, uint64_t> affinity;         // (reader, author)
  int writes_in_flight = 0;
  bool passivating = false;
  static inline const char* name = "parley.post_shard";
};

// The registry's passivate_atom is part of the entity contract, not of the interface.
using shard_impl = post_shard_api::extend<caf::reacts_to<passivate_atom>>;
using shard_actor = shard_impl::stateful_pointer<shard_state>;

// -- reads through the overlay ----------------------------------------------------------------

result<std::optional<pb::StoredPost>> read_post(shard_actor self, const std::string& id) {
  auto& st = self->state;
  if (auto* v = st.posts.find(id))
    return *v;
  if (!valid_time_ordered_id(id) || id_shard(id, post_shard_count) != st.shard)
    return std::optional<pb::StoredPost>{};
  return st.ctx->store->post(id);
}

result<bool> read_like(shard_actor self, const std::string& post, const std::string& user) {
  auto& st = self->state;
  if (auto* v = st.likes.find({post, user}))
    return *v;
  return st.ctx->store->liked(post, user);
}

// An author without stats on record has no posts yet.
result<pb::AuthorStats> read_stats(shard_actor self, const std::string& author) {
  auto& st = self->state;
  if (auto* v = st.stats.find(author))
    return *v;
  auto stored = st.ctx->store->author_stats(author);
  if (!stored)
    return std::move(stored).take_error();
  return std::move(*stored).value_or(pb::AuthorStats{});
}

result<uint64_t> read_affinity(shard_actor self, const std::string& reader,
                               const std::string& author) {
  auto& st = self->state;
  if (auto* v = st.affinity.find({reader, author}))
    return *v;
  return st.ctx->store->affinity(reader, author);
}

// -- writes ---------------------------------------------------------------------------------------

void maybe_quit(shard_actor self) {
  auto& st = self->state;
  if (st.passivating && st.writes_in_flight == 0)
    self->quit();
}

// What one change touched, to release from the overlay once the write is done.
struct touched {
  std::vector<std::string> posts;
  std::vector<user_pair> likes;
  std::vector<std::string> stats;
  std::vector<user_pair> affinity;
};

// Sends `ws` to the writer; `done(err)` runs after the overlay entries are released.
template <class Done>
void commit(shard_actor self, storage::write_set ws, touched t, Done done) {
  auto& st = self->state;
  ++st.writes_in_flight;
  auto finish = [self, t = std::move(t), done = std::move(done)](const fault& err) mutable {
    auto& st = self->state;
    for (auto& k : t.posts)
      st.posts.release(k);
    for (auto& k : t.likes)
      st.likes.release(k);
    for (auto& k : t.stats)
      st.stats.release(k);
    for (auto& k : t.affinity)
      st.affinity.release(k);
    --st.writes_in_flight;
    done(err);
    maybe_quit(self);
  };
  self->request(st.ctx->storage_writer, caf::infinite, write_atom_v, std::move(ws))
    .then([finish]() mutable { finish({}); },
          [finish](caf::error& e) mutable {
            auto err = to_fault(e);
            spdlog::error("post shard: write failed: {}", err.message);
            finish(err);
          });
}

// The post a change applies to: not_found if there is none, or the storage error.
caf::expected<pb::StoredPost> existing_post(shard_actor self, const std::string& id) {
  auto post = read_post(self, id);
  if (!post)
    return make_error(post.error());
  if (!*post)
    return make_error(errc::not_found, "no post " + id.substr(0, 64));
  return std::move(**post);
}

caf::result<pb::Post> create(shard_actor self, pb::NewPost& msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto& req = *msg.mutable_request();
  const auto& author_id = msg.author_id();
  if (!valid_user_id(author_id))
    return make_error(errc::bad_request, "invalid author id \"" + author_id.substr(0, 64) + "\"");
  if (id_shard(author_id, post_shard_count) != st.shard)
    return make_error(errc::bad_request, "the posts of " + author_id + " live in post shard "
                                           + std::to_string(id_shard(author_id, post_shard_count)));
  if (auto err = check_text(req.text(), "text"))
    return make_error(err);
  std::vector<std::string> urls(req.media_urls().begin(), req.media_urls().end());
  if (auto err = check_media_urls(urls))
    return make_error(err);
  // The follow-graph actor writes the count; a follow racing this post only decides which
  // side of the threshold this one post lands on, and readers find it either way.
  auto author = ctx.store->user(author_id);
  if (!author)
    return make_error(author.error());
  auto read = read_stats(self, author_id);
  if (!read)
    return make_error(read.error());
  auto& stats = *read;
  auto now = unix_ms();
  pb::StoredPost post;
  post.set_author_id(author_id);
  post.set_text(std::move(*req.mutable_text()));
  *post.mutable_media_urls() = std::move(*req.mutable_media_urls());
  post.set_created_ms(now);
  auto followers = *author ? (*author)->followers() : 0;
  post.set_fanned_out(fans_out(followers, ctx.opts.celebrity_threshold));
  auto id = new_time_ordered_id(now, st.shard, post_shard_count);
  stats.set_posts(stats.posts() + 1);

  storage::write_set ws;
  ctx.store->put_post(ws, id, post);
  ctx.store->put_author_stats(ws, author_id, stats);
  bool newly_pulled = !post.fanned_out() && !ctx.pulled.contains(author_id);
  if (newly_pulled)
    ctx.store->mark_pulled(ws, author_id);
  st.posts.set(id, post);
  st.stats.set(author_id, stats);
  touched t{{id}, {}, {author_id}, {}};
  auto shared = std::make_shared<const pb::StoredPost>(std::move(post));
  auto rp = self->make_response_promise<pb::Post>();
  commit(self, std::move(ws), std::move(t), [self, id, shared, newly_pulled, rp](const fault& err) mutable {
    if (err) {
      rp.deliver(make_error(err));
      return;
    }
    auto& ctx = *self->state.ctx;
    ctx.posts.put(id, shared);
    auto& m = instruments();
    m.posts_created.inc();
    if (!shared->fanned_out()) {
      m.posts_pulled.inc();
      ctx.pulled.add(shared->author_id());  // before the ack: readers merge it at once
    }
    // A pulled author's cached list is their newest posts of either kind.
    if (ctx.pulled.contains(shared->author_id()))
      ctx.pulled_recent.invalidate(shared->author_id());
    rp.deliver(to_public(id, *shared));
    pb::FanoutJob job;
    job.set_post_id(id);
    *job.mutable_post() = *shared;
    job.set_newly_pulled(newly_pulled);
    job.set_started_ns(std::chrono::steady_clock::now().time_since_epoch().count());
    // One worker per author: its mailbox is FIFO, so page k of a post is done before page k of
    // the author's next post (live items: docs/feed.md, Known limits).
    auto& worker = ctx.fanout[id_shard(shared->author_id(),
                                       static_cast<uint32_t>(ctx.fanout.size()))];
    self->send(worker, fanout_atom_v, std::move(job));
  });
  return rp;
}

caf::result<void> erase(shard_actor self, const pb::PostDeletion& msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  const auto& id = msg.post_id();
  auto post = existing_post(self, id);
  if (!post)
    return post.error();
  if (post->author_id() != msg.user_id() && !msg.admin())
    return make_error(errc::forbidden, "only the author deletes a post");
  auto read = read_stats(self, post->author_id());
  if (!read)
    return make_error(read.error());
  auto& stats = *read;
  storage::write_set ws;
  if (auto err = ctx.store->erase_post(ws, id, *post))
    return make_error(err);
  stats.set_posts(stats.posts() > 0 ? stats.posts() - 1 : 0);
  ctx.store->put_author_stats(ws, post->author_id(), stats);
  st.posts.set(id, std::nullopt);
  st.stats.set(post->author_id(), stats);
  touched t{{id}, {}, {post->author_id()}, {}};
  // Answered with an empty reply, the one a void handler sends.
  auto rp = self->make_response_promise<caf::unit_t>();
  commit(self, std::move(ws), std::move(t),
         [self, id, author = post->author_id(), rp](const fault& err) mutable {
           if (err) {
             rp.deliver(make_error(err));
             return;
           }
           auto& ctx = *self->state.ctx;
           ctx.posts.put(id, nullptr);  // leaves every feed at its next read
           if (ctx.pulled.contains(author))
             ctx.pulled_recent.invalidate(author);
           rp.deliver(caf::unit);
         });
  return rp;
}

// What an engagement changes besides the post: the reader's affinity to its author.
caf::error add_affinity(shard_actor self, const std::string& reader, const std::string& author,
                        int delta, storage::write_set& ws, touched& t) {
  auto& st = self->state;
  if (delta == 0 || reader == author)
    return {};
  auto read = read_affinity(self, reader, author);
  if (!read)
    return make_error(read.error());
  auto current = *read;
  uint64_t next = delta > 0 ? current + 1 : (current > 0 ? current - 1 : 0);
  st.ctx->store->put_affinity(ws, reader, author, next);
  st.affinity.set({reader, author}, next);
  t.affinity.push_back({reader, author});
  return {};
}

// Stores the changed post with the rest of `ws` and answers `reply(post)` once durable.
template <class T, class Reply>
caf::typed_response_promise<T> commit_post(shard_actor self, const std::string& id,
                                           pb::StoredPost post, storage::write_set ws,
                                           touched t, Reply reply) {
  auto& st = self->state;
  st.ctx->store->update_post(ws, id, post);
  st.posts.set(id, post);
  t.posts.push_back(id);
  auto shared = std::make_shared<const pb::StoredPost>(std::move(post));
  auto rp = self->template make_response_promise<T>();
  commit(self, std::move(ws), std::move(t),
         [self, id, shared, rp, reply = std::move(reply)](const fault& err) mutable {
           if (err) {
             rp.deliver(make_error(err));
             return;
           }
           self->state.ctx->posts.put(id, shared);
           rp.deliver(reply(*shared));
         });
  return rp;
}

caf::result<pb::Post> engage(shard_actor self, const pb::Engagement& msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  const auto& id = msg.post_id();
  const auto& user = msg.user_id();
  if (!pb::Engagement::Kind_IsValid(msg.kind()))
    return make_error(errc::bad_request, "unknown engagement " + std::to_string(msg.kind()));
  auto post = existing_post(self, id);
  if (!post)
    return post.error();
  storage::write_set ws;
  touched t;
  int affinity_delta = 0;
  if (msg.kind() == pb::Engagement::SHARE) {
    post->set_shares(post->shares() + 1);
  } else {
    bool want = msg.kind() == pb::Engagement::LIKE;
    auto liked = read_like(self, id, user);
    if (!liked)
      return make_error(liked.error());
    if (*liked == want)
      return to_public(id, *post);  // already in the asked state: idempotent, nothing to write
    post->set_likes(want ? post->likes() + 1 : (post->likes() > 0 ? post->likes() - 1 : 0));
    if (want)
      ctx.store->put_like(ws, id, user);
    else
      ctx.store->erase_like(ws, id, user);
    st.likes.set({id, user}, want);
    t.likes.push_back({id, user});
    affinity_delta = want ? 1 : -1;
  }
  if (auto e = add_affinity(self, user, post->author_id(), affinity_delta, ws, t))
    return e;
  return commit_post<pb::Post>(self, id, std::move(*post), std::move(ws), std::move(t),
                               [id](const pb::StoredPost& p) { return to_public(id, p); });
}

caf::result<pb::Comment> comment(shard_actor self, const pb::NewComment& msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  const auto& id = msg.post_id();
  if (auto err = check_text(msg.text(), "text"))
    return make_error(err);
  auto post = existing_post(self, id);
  if (!post)
    return post.error();
  auto now = unix_ms();
  auto comment_id = new_time_ordered_id(now, st.shard, post_shard_count);
  pb::StoredComment c;
  c.set_author_id(msg.user_id());
  c.set_text(msg.text());
  c.set_created_ms(now);
  storage::write_set ws;
  ctx.store->put_comment(ws, id, comment_id, c);
  post->set_comments(post->comments() + 1);
  touched t;
  if (auto e = add_affinity(self, msg.user_id(), post->author_id(), 1, ws, t))
    return e;
  return commit_post<pb::Comment>(
    self, id, std::move(*post), std::move(ws), std::move(t),
    [comment = to_public(comment_id, id, c)](const pb::StoredPost&) { return comment; });
}

caf::result<pb::Post> read(shard_actor self, const pb::PostQuery& q) {
  pb::Post out;
  if (auto err = feed::read_post(*self->state.ctx, q.post_id(), out))
    return make_error(err);
  return out;
}

caf::result<pb::CommentList> read(shard_actor self, const pb::CommentsQuery& q) {
  pb::CommentList out;
  if (auto err = read_comments(*self->state.ctx, q.post_id(), q.cursor(),
                               page_limit(q.limit(), 50), out))
    return make_error(err);
  return out;
}

pb::PostShardInspection inspect(shard_actor self) {
  auto& st = self->state;
  pb::PostShardInspection out;
  out.set_shard(st.shard);
  out.set_pending_posts(static_cast<uint32_t>(st.posts.size()));
  out.set_pending_likes(static_cast<uint32_t>(st.likes.size()));
  out.set_pending_stats(static_cast<uint32_t>(st.stats.size()));
  out.set_pending_affinity(static_cast<uint32_t>(st.affinity.size()));
  out.set_writes_in_flight(st.writes_in_flight);
  out.set_passivating(st.passivating);
  return out;
}

} // namespace

post_shard_api spawn_post_shard(caf::actor_system& sys, feed_context_ptr ctx, uint32_t shard) {
  return sys.spawn([ctx, shard](shard_actor self) -> shard_impl::behavior_type {
    self->state.ctx = ctx;
    self->state.shard = shard;
    return {
      [self](create_atom, pb::NewPost& msg) { return create(self, msg); },
      [self](delete_atom, const pb::PostDeletion& msg) { return erase(self, msg); },
      [self](engage_atom, const pb::Engagement& msg) { return engage(self, msg); },
      [self](create_atom, const pb::NewComment& msg) { return comment(self, msg); },
      [self](read_atom, const pb::PostQuery& q) { return read(self, q); },
      [self](read_atom, const pb::CommentsQuery& q) { return read(self, q); },
      [self](passivate_atom) {
        self->state.passivating = true;
        maybe_quit(self);
      },
      [self](inspect_atom) { return inspect(self); },
    };
  });
}

} // namespace parley::feed
