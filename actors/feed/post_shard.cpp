#include "actors/feed/post_shard.hpp"

#include "actors/feed/feed_messages.hpp"
#include "actors/feed/feed_metrics.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/feed_rules.hpp"
#include "actors/feed/write_behind.hpp"
#include "actors/runtime/atoms.hpp"
#include "actors/runtime/errors.hpp"
#include "actors/runtime/storage_writer.hpp"
#include "common/clock.hpp"
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

using shard_actor = caf::stateful_actor<shard_state>;

// -- reads through the overlay ----------------------------------------------------------------

std::optional<pb::StoredPost> read_post(shard_actor* self, const std::string& id, fault& err) {
  auto& st = self->state;
  if (auto* v = st.posts.find(id))
    return *v;
  if (!valid_time_ordered_id(id) || id_shard(id, post_shard_count) != st.shard)
    return std::nullopt;
  return st.ctx->store->post(id, err);
}

bool read_like(shard_actor* self, const std::string& post, const std::string& user, fault& err) {
  auto& st = self->state;
  if (auto* v = st.likes.find({post, user}))
    return *v;
  return st.ctx->store->liked(post, user, err);
}

pb::AuthorStats read_stats(shard_actor* self, const std::string& author, fault& err) {
  auto& st = self->state;
  if (auto* v = st.stats.find(author))
    return *v;
  return st.ctx->store->author_stats(author, err).value_or(pb::AuthorStats{});
}

uint64_t read_affinity(shard_actor* self, const std::string& reader, const std::string& author,
                       fault& err) {
  auto& st = self->state;
  if (auto* v = st.affinity.find({reader, author}))
    return *v;
  return st.ctx->store->affinity(reader, author, err);
}

// -- writes ---------------------------------------------------------------------------------------

void maybe_quit(shard_actor* self) {
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
void commit(shard_actor* self, storage::write_set ws, touched t, Done done) {
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

fault no_post(const std::string& id) {
  return make_fault(errc::not_found, "no post " + id);
}

void create(shard_actor* self, post_create msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  auto& req = msg.request;
  if (auto err = check_text(req.text(), "text"))
    return msg.reply(err, {}, nullptr);
  std::vector<std::string> urls(req.media_urls().begin(), req.media_urls().end());
  if (auto err = check_media_urls(urls))
    return msg.reply(err, {}, nullptr);
  fault err;
  // The follow-graph actor writes the count; a follow racing this post only decides which
  // side of the threshold this one post lands on, and readers find it either way.
  auto author = ctx.store->user(msg.author, err);
  auto stats = read_stats(self, msg.author, err);
  if (err)
    return msg.reply(err, {}, nullptr);
  auto now = unix_ms();
  pb::StoredPost post;
  post.set_author_id(msg.author);
  post.set_text(std::move(*req.mutable_text()));
  *post.mutable_media_urls() = std::move(*req.mutable_media_urls());
  post.set_created_ms(now);
  post.set_fanned_out(fans_out(author ? author->followers() : 0, ctx.opts.celebrity_threshold));
  auto id = new_time_ordered_id(now, st.shard, post_shard_count);
  stats.set_posts(stats.posts() + 1);

  storage::write_set ws;
  ctx.store->put_post(ws, id, post);
  ctx.store->put_author_stats(ws, msg.author, stats);
  bool newly_pulled = !post.fanned_out() && !ctx.pulled.contains(msg.author);
  if (newly_pulled)
    ctx.store->mark_pulled(ws, msg.author);
  st.posts.set(id, post);
  st.stats.set(msg.author, stats);
  touched t{{id}, {}, {msg.author}, {}};
  auto shared = std::make_shared<const pb::StoredPost>(std::move(post));
  commit(self, std::move(ws), std::move(t),
         [self, id, shared, newly_pulled, msg = std::move(msg)](const fault& err) {
           if (err)
             return msg.reply(err, {}, nullptr);
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
           msg.reply({}, id, shared);
           fanout_job job;
           job.post_id = id;
           job.author = shared->author_id();
           job.created_ms = shared->created_ms();
           job.fanned_out = shared->fanned_out();
           job.newly_pulled = newly_pulled;
           job.post = shared;
           job.started_ns = std::chrono::steady_clock::now().time_since_epoch().count();
           // One worker per author: its mailbox is FIFO, so page k of a post is done before page
           // k of the author's next post (live items: docs/feed.md, Known limits).
           auto& worker = ctx.fanout[id_shard(job.author, static_cast<uint32_t>(ctx.fanout.size()))];
           self->send(worker, fanout_atom_v, std::move(job));
         });
}

void erase(shard_actor* self, post_delete msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  fault err;
  auto post = read_post(self, msg.post_id, err);
  if (err)
    return msg.reply(err);
  if (!post)
    return msg.reply(no_post(msg.post_id));
  if (post->author_id() != msg.user && !msg.admin)
    return msg.reply(make_fault(errc::forbidden, "only the author deletes a post"));
  auto stats = read_stats(self, post->author_id(), err);
  if (err)
    return msg.reply(err);
  storage::write_set ws;
  ctx.store->erase_post(ws, msg.post_id, *post, err);
  if (err)
    return msg.reply(err);
  stats.set_posts(stats.posts() > 0 ? stats.posts() - 1 : 0);
  ctx.store->put_author_stats(ws, post->author_id(), stats);
  st.posts.set(msg.post_id, std::nullopt);
  st.stats.set(post->author_id(), stats);
  touched t{{msg.post_id}, {}, {post->author_id()}, {}};
  commit(self, std::move(ws), std::move(t),
         [self, author = post->author_id(), msg = std::move(msg)](const fault& err) {
           if (!err) {
             auto& ctx = *self->state.ctx;
             ctx.posts.put(msg.post_id, nullptr);  // leaves every feed at its next read
             if (ctx.pulled.contains(author))
               ctx.pulled_recent.invalidate(author);
           }
           msg.reply(err);
         });
}

void engage(shard_actor* self, post_engage msg) {
  auto& st = self->state;
  auto& ctx = *st.ctx;
  if (msg.kind == engagement::comment)
    if (auto err = check_text(msg.text, "text"))
      return msg.reply(err, msg.post_id, nullptr, {});
  fault err;
  auto post = read_post(self, msg.post_id, err);
  if (err)
    return msg.reply(err, msg.post_id, nullptr, {});
  if (!post)
    return msg.reply(no_post(msg.post_id), msg.post_id, nullptr, {});
  auto author = post->author_id();
  bool counts_for_affinity = msg.user != author;
  storage::write_set ws;
  touched t;
  int affinity_delta = 0;
  pb::Comment comment;
  auto now = unix_ms();
  switch (msg.kind) {
    case engagement::like:
    case engagement::unlike: {
      bool want = msg.kind == engagement::like;
      if (read_like(self, msg.post_id, msg.user, err) == want || err) {
        // Already in the asked state: idempotent, nothing to write.
        auto current = std::make_shared<const pb::StoredPost>(std::move(*post));
        return msg.reply(err, msg.post_id, err ? nullptr : current, {});
      }
      post->set_likes(want ? post->likes() + 1 : (post->likes() > 0 ? post->likes() - 1 : 0));
      if (want)
        ctx.store->put_like(ws, msg.post_id, msg.user);
      else
        ctx.store->erase_like(ws, msg.post_id, msg.user);
      st.likes.set({msg.post_id, msg.user}, want);
      t.likes.push_back({msg.post_id, msg.user});
      affinity_delta = want ? 1 : -1;
      break;
    }
    case engagement::comment: {
      auto comment_id = new_time_ordered_id(now, st.shard, post_shard_count);
      pb::StoredComment c;
      c.set_author_id(msg.user);
      c.set_text(msg.text);
      c.set_created_ms(now);
      ctx.store->put_comment(ws, msg.post_id, comment_id, c);
      comment = to_public(comment_id, msg.post_id, c);
      post->set_comments(post->comments() + 1);
      affinity_delta = 1;
      break;
    }
    case engagement::share:
      post->set_shares(post->shares() + 1);
      break;
  }
  if (affinity_delta != 0 && counts_for_affinity) {
    auto current = read_affinity(self, msg.user, author, err);
    if (err)
      return msg.reply(err, msg.post_id, nullptr, {});
    uint64_t next = affinity_delta > 0 ? current + 1 : (current > 0 ? current - 1 : 0);
    ctx.store->put_affinity(ws, msg.user, author, next);
    st.affinity.set({msg.user, author}, next);
    t.affinity.push_back({msg.user, author});
  }
  ctx.store->update_post(ws, msg.post_id, *post);
  st.posts.set(msg.post_id, *post);
  t.posts.push_back(msg.post_id);
  auto shared = std::make_shared<const pb::StoredPost>(std::move(*post));
  commit(self, std::move(ws), std::move(t),
         [self, shared, comment = std::move(comment), msg = std::move(msg)](const fault& err) {
           if (err)
             return msg.reply(err, msg.post_id, nullptr, {});
           self->state.ctx->posts.put(msg.post_id, shared);
           msg.reply({}, msg.post_id, shared, comment);
         });
}

} // namespace

caf::actor spawn_post_shard(caf::actor_system& sys, feed_context_ptr ctx, uint32_t shard) {
  return sys.spawn([ctx, shard](shard_actor* self) -> caf::behavior {
    self->state.ctx = ctx;
    self->state.shard = shard;
    return {
      [self](create_atom, post_create& msg) { create(self, std::move(msg)); },
      [self](delete_atom, post_delete& msg) { erase(self, std::move(msg)); },
      [self](engage_atom, post_engage& msg) { engage(self, std::move(msg)); },
      [self](passivate_atom) {
        self->state.passivating = true;
        maybe_quit(self);
      },
    };
  });
}

} // namespace parley::feed
