#include "net/feed_handlers.hpp"

#include "actors/feed/feed_messages.hpp"
#include "actors/feed/feed_reads.hpp"
#include "actors/feed/graph_actor.hpp"
#include "actors/runtime/atoms.hpp"
#include "common/identifiers.hpp"
#include "common/time_ordered_id.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/feed_json.hpp"
#include "net/json_codec.hpp"

#include <caf/all.hpp>

namespace parley::net {

namespace {

// The authenticated user, made known to the follow graph on first sight (a user exists from
// their first authenticated request; following an unknown user is a 404).
bool authenticated(edge_context& ctx, const http_request& req, jwt_claims& claims,
                   responder& respond) {
  if (!authenticate_or_answer(req, ctx.opts.auth, claims, respond))
    return false;
  feed::make_known(*ctx.feed, claims.sub);
  return true;
}

void to_post_shard(edge_context& ctx, uint32_t shard, caf::message payload) {
  caf::anon_send(ctx.feed->registry, std::string{feed::post_shard_kind}, std::to_string(shard),
                 std::move(payload));
}

// The shard owning a post, or nullopt for an id no post can have (answered 404).
std::optional<uint32_t> shard_of_post(const std::string& id) {
  if (!valid_time_ordered_id(id))
    return std::nullopt;
  return id_shard(id, feed::post_shard_count);
}

http_response no_post(const std::string& id) {
  return http_response::error(make_fault(errc::not_found, "no post " + id.substr(0, 64)));
}

void create_post(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  feed::post_create msg;
  if (auto err = from_json(req.body, msg.request))
    return respond(http_response::error(err));
  msg.author = claims.sub;
  msg.reply = [respond](const fault& err, const std::string& id, const feed::post_ptr& post) {
    if (err)
      return respond(http_response::error(err));
    respond(http_response::json(201, post_json(feed::to_public(id, *post))));
  };
  to_post_shard(ctx, id_shard(claims.sub, feed::post_shard_count),
                caf::make_message(create_atom_v, std::move(msg)));
}

void get_post(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::Post post;
  if (auto err = feed::read_post(*ctx.feed, req.params["id"], post))
    return respond(http_response::error(err));
  respond(http_response::json(200, post_json(post)));
}

void delete_post(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  auto& id = req.params["id"];
  auto shard = shard_of_post(id);
  if (!shard)
    return respond(no_post(id));
  feed::post_delete msg;
  msg.post_id = id;
  msg.user = claims.sub;
  msg.admin = claims.role == "admin";
  msg.reply = [respond](const fault& err) {
    respond(err ? http_response::error(err) : http_response::text(204, {}, "application/json"));
  };
  to_post_shard(ctx, *shard, caf::make_message(delete_atom_v, std::move(msg)));
}

void engage(edge_context& ctx, http_request& req, responder respond, feed::engagement kind) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  auto& id = req.params["id"];
  auto shard = shard_of_post(id);
  if (!shard)
    return respond(no_post(id));
  feed::post_engage msg;
  msg.kind = kind;
  msg.post_id = id;
  msg.user = claims.sub;
  if (kind == feed::engagement::comment) {
    pb::CreateCommentRequest body;
    if (auto err = from_json(req.body, body))
      return respond(http_response::error(err));
    msg.text = std::move(*body.mutable_text());
  }
  msg.reply = [respond, kind](const fault& err, const std::string& post_id,
                              const feed::post_ptr& post, const pb::Comment& comment) {
    if (err)
      return respond(http_response::error(err));
    if (kind == feed::engagement::comment)
      return respond(http_response::json(201, to_json(comment)));
    respond(http_response::json(kind == feed::engagement::share ? 201 : 200,
                                post_json(feed::to_public(post_id, *post))));
  };
  to_post_shard(ctx, *shard, caf::make_message(engage_atom_v, std::move(msg)));
}

void list_comments(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  size_t limit = 0;
  if (auto err = req.limit_param(50, limit))
    return respond(http_response::error(err));
  pb::CommentList out;
  if (auto err = feed::read_comments(*ctx.feed, req.params["id"], req.query_param("cursor"),
                                     limit, out))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(out)));
}

void follow(edge_context& ctx, http_request& req, responder respond, bool on) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  feed::follow_change msg;
  msg.follower = claims.sub;
  msg.followee = req.params["user_id"];
  msg.follow = on;
  msg.reply = [respond](const fault& err) {
    respond(err ? http_response::error(err) : http_response::text(204, {}, "application/json"));
  };
  caf::anon_send(ctx.feed->graph, follow_atom_v, std::move(msg));
}

void get_user(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::UserProfile out;
  if (auto err = feed::read_user(*ctx.feed, req.params["id"], out))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(out)));
}

void list_follows(edge_context& ctx, http_request& req, responder respond, bool incoming) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  size_t limit = 0;
  if (auto err = req.limit_param(50, limit))
    return respond(http_response::error(err));
  pb::FollowList out;
  if (auto err = feed::read_follows(*ctx.feed, req.params["id"], incoming,
                                    req.query_param("cursor"), limit, out))
    return respond(http_response::error(err));
  respond(http_response::json(200, to_json(out)));
}

void get_feed(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  feed::feed_query q;
  q.user = claims.sub;
  auto& mode = req.query_param("mode");
  if (mode.empty() || mode == "ranked")
    q.mode = feed::feed_mode::ranked;
  else if (mode == "chronological")
    q.mode = feed::feed_mode::chronological;
  else
    return respond(http_response::error(make_fault(
      errc::bad_request, "mode must be ranked or chronological (got \"" + mode.substr(0, 32)
                           + "\")")));
  if (auto err = req.limit_param(20, q.limit))
    return respond(http_response::error(err));
  if (auto& cursor = req.query_param("cursor"); !cursor.empty()) {
    feed::feed_cursor c;
    if (auto err = feed::parse_cursor(cursor, q.mode, c))
      return respond(http_response::error(err));
    q.cursor = std::move(c);
  }
  q.reply = [respond](const fault& err, const pb::FeedPage& page) {
    respond(err ? http_response::error(err) : http_response::json(200, feed_page_json(page)));
  };
  caf::anon_send(ctx.feed->registry, std::string{feed::feed_kind}, claims.sub,
                 caf::make_message(read_atom_v, std::move(q)));
}

} // namespace

void add_feed_routes(edge_context& ctx) {
  auto& r = ctx.routes;
  auto route = [&](const char* method, const char* path, auto fn) {
    r.add(method, path, [&ctx, fn](http_request& req, responder respond) {
      fn(ctx, req, std::move(respond));
    });
  };
  using feed::engagement;
  route("POST", "/api/v1/posts", create_post);
  route("GET", "/api/v1/posts/{id}", get_post);
  route("DELETE", "/api/v1/posts/{id}", delete_post);
  route("POST", "/api/v1/posts/{id}/likes", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), engagement::like);
  });
  route("DELETE", "/api/v1/posts/{id}/likes", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), engagement::unlike);
  });
  route("POST", "/api/v1/posts/{id}/comments", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), engagement::comment);
  });
  route("GET", "/api/v1/posts/{id}/comments", list_comments);
  route("POST", "/api/v1/posts/{id}/shares", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), engagement::share);
  });
  route("PUT", "/api/v1/following/{user_id}", [](edge_context& c, http_request& q, responder p) {
    follow(c, q, std::move(p), true);
  });
  route("DELETE", "/api/v1/following/{user_id}",
        [](edge_context& c, http_request& q, responder p) { follow(c, q, std::move(p), false); });
  route("GET", "/api/v1/users/{id}", get_user);
  route("GET", "/api/v1/users/{id}/followers",
        [](edge_context& c, http_request& q, responder p) { list_follows(c, q, std::move(p), true); });
  route("GET", "/api/v1/users/{id}/following",
        [](edge_context& c, http_request& q, responder p) { list_follows(c, q, std::move(p), false); });
  route("GET", "/api/v1/feed", get_feed);
}

} // namespace parley::net
