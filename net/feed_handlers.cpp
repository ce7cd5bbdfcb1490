#include "net/feed_handlers.hpp"

#include "actors/feed/feed_api.hpp"
#include "actors/feed/graph_actor.hpp"
#include "common/time_ordered_id.hpp"
#include "net/actor_answers.hpp"
#include "net/auth.hpp"
#include "net/edge_context.hpp"
#include "net/feed_json.hpp"
#include "net/json_codec.hpp"

#include <caf/all.hpp>

#include <optional>

namespace parley::net {

namespace {

// The authenticated user, made known to the follow graph on first sight (a user exists from
// their first authenticated request; following an unknown user is a 404). No storage read here:
// make_known hands a user it has not seen to the graph actor.
bool authenticated(edge_context& ctx, const http_request& req, jwt_claims& claims,
                   responder& respond) {
  if (!authenticate_or_answer(req, ctx.opts.auth, claims, respond))
    return false;
  feed::make_known(*ctx.feed, claims.sub);
  return true;
}

http_response no_content() {
  return http_response::text(204, {}, "application/json");
}

// A request on the post named in the path: the caller in `claims` and the post's shard, or
// nullopt once answered (401, or 404 for an id no post can have).
std::optional<uint32_t> post_request(edge_context& ctx, http_request& req, jwt_claims& claims,
                                     responder& respond) {
  if (!authenticated(ctx, req, claims, respond))
    return std::nullopt;
  auto& id = req.params["id"];
  if (valid_time_ordered_id(id))
    return id_shard(id, feed::post_shard_count);
  respond(http_response::error(make_fault(errc::not_found, "no post " + id.substr(0, 64))));
  return std::nullopt;
}

// Asks post shard `shard` and answers render(reply) or the failure.
template <class Render, class... Args>
void ask_post_shard(edge_context& ctx, uint32_t shard, responder respond, Render render,
                    Args... args) {
  ask_entity_and_answer<feed::post_shard_api>(ctx, ctx.feed->post_shard(shard), std::move(respond),
                                              std::move(render), std::move(args)...);
}

void create_post(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::NewPost msg;
  if (auto err = from_json(req.body, *msg.mutable_request()))
    return respond(http_response::error(err));
  msg.set_author_id(claims.sub);
  ask_post_shard(
    ctx, id_shard(claims.sub, feed::post_shard_count), std::move(respond),
    [](const pb::Post& post) { return http_response::json(201, post_json(post)); },
    create_atom_v, std::move(msg));
}

void get_post(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  auto shard = post_request(ctx, req, claims, respond);
  if (!shard)
    return;
  pb::PostQuery q;
  q.set_post_id(req.params["id"]);
  ask_post_shard(
    ctx, *shard, std::move(respond),
    [](const pb::Post& post) { return http_response::json(200, post_json(post)); },
    read_atom_v, std::move(q));
}

void delete_post(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  auto shard = post_request(ctx, req, claims, respond);
  if (!shard)
    return;
  pb::PostDeletion msg;
  msg.set_post_id(req.params["id"]);
  msg.set_user_id(claims.sub);
  msg.set_admin(claims.role == "admin");
  ask_post_shard(ctx, *shard, std::move(respond), [] { return no_content(); }, delete_atom_v,
                 std::move(msg));
}

// Likes answer 200 (a state), shares 201 (a new act): both with the post after the change.
void engage(edge_context& ctx, http_request& req, responder respond, pb::Engagement::Kind kind) {
  jwt_claims claims;
  auto shard = post_request(ctx, req, claims, respond);
  if (!shard)
    return;
  pb::Engagement msg;
  msg.set_kind(kind);
  msg.set_post_id(req.params["id"]);
  msg.set_user_id(claims.sub);
  int status = kind == pb::Engagement::SHARE ? 201 : 200;
  ask_post_shard(
    ctx, *shard, std::move(respond),
    [status](const pb::Post& post) { return http_response::json(status, post_json(post)); },
    engage_atom_v, std::move(msg));
}

void add_comment(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  auto shard = post_request(ctx, req, claims, respond);
  if (!shard)
    return;
  pb::CreateCommentRequest body;
  if (auto err = from_json(req.body, body))
    return respond(http_response::error(err));
  pb::NewComment msg;
  msg.set_post_id(req.params["id"]);
  msg.set_user_id(claims.sub);
  msg.set_text(std::move(*body.mutable_text()));
  ask_post_shard(
    ctx, *shard, std::move(respond),
    [](const pb::Comment& comment) { return http_response::json(201, to_json(comment)); },
    create_atom_v, std::move(msg));
}

void list_comments(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  auto shard = post_request(ctx, req, claims, respond);
  if (!shard)
    return;
  size_t limit = 0;
  if (auto err = req.limit_param(50, limit))
    return respond(http_response::error(err));
  pb::CommentsQuery q;
  q.set_post_id(req.params["id"]);
  q.set_cursor(req.query_param("cursor"));
  q.set_limit(static_cast<uint32_t>(limit));
  ask_post_shard(
    ctx, *shard, std::move(respond),
    [](const pb::CommentList& page) { return http_response::json(200, to_json(page)); },
    read_atom_v, std::move(q));
}

void follow(edge_context& ctx, http_request& req, responder respond, bool on) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::FollowChange msg;
  msg.set_follower_id(claims.sub);
  msg.set_followee_id(req.params["user_id"]);
  msg.set_follow(on);
  // The follower's graph takes the change (in a cluster: on the follower's partition owner).
  auto graph = ctx.feed->graph_for(claims.sub);
  ask_routed_and_answer(ctx, std::move(graph), std::move(respond), [] { return no_content(); },
                        follow_atom_v, std::move(msg));
}

void get_user(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::UserRef q;
  q.set_user_id(req.params["id"]);
  auto graph = ctx.feed->graph_for(q.user_id());
  ask_routed_and_answer(
    ctx, std::move(graph), std::move(respond),
    [](const pb::UserProfile& user) { return http_response::json(200, to_json(user)); },
    read_atom_v, std::move(q));
}

void list_follows(edge_context& ctx, http_request& req, responder respond, bool incoming) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  size_t limit = 0;
  if (auto err = req.limit_param(50, limit))
    return respond(http_response::error(err));
  pb::FollowsQuery q;
  q.set_user_id(req.params["id"]);
  q.set_incoming(incoming);
  q.set_cursor(req.query_param("cursor"));
  q.set_limit(static_cast<uint32_t>(limit));
  auto graph = ctx.feed->graph_for(q.user_id());
  ask_routed_and_answer(
    ctx, std::move(graph), std::move(respond),
    [](const pb::FollowList& page) { return http_response::json(200, to_json(page)); },
    read_atom_v, std::move(q));
}

void get_feed(edge_context& ctx, http_request& req, responder respond) {
  jwt_claims claims;
  if (!authenticated(ctx, req, claims, respond))
    return;
  pb::FeedQuery q;
  auto& mode = req.query_param("mode");
  if (mode.empty() || mode == "ranked")
    q.set_mode(pb::FeedQuery::RANKED);
  else if (mode == "chronological")
    q.set_mode(pb::FeedQuery::CHRONOLOGICAL);
  else
    return respond(http_response::error(make_fault(
      errc::bad_request, "mode must be ranked or chronological (got \"" + mode.substr(0, 32)
                           + "\")")));
  size_t limit = 0;
  if (auto err = req.limit_param(20, limit))
    return respond(http_response::error(err));
  q.set_limit(static_cast<uint32_t>(limit));
  q.set_cursor(req.query_param("cursor"));  // checked by the feed actor
  ask_entity_and_answer<feed::feed_api>(
    ctx, ctx.feed->feed_of(claims.sub), std::move(respond),
    [](const pb::FeedPage& page) { return http_response::json(200, feed_page_json(page)); },
    read_atom_v, std::move(q));
}

} // namespace

void add_feed_routes(edge_context& ctx) {
  auto& r = ctx.routes;
  auto route = [&](const char* method, const char* path, auto fn) {
    r.add(method, path, [&ctx, fn](http_request& req, responder respond) {
      fn(ctx, req, std::move(respond));
    });
  };
  route("POST", "/api/v1/posts", create_post);
  route("GET", "/api/v1/posts/{id}", get_post);
  route("DELETE", "/api/v1/posts/{id}", delete_post);
  route("POST", "/api/v1/posts/{id}/likes", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), pb::Engagement::LIKE);
  });
  route("DELETE", "/api/v1/posts/{id}/likes", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), pb::Engagement::UNLIKE);
  });
  route("POST", "/api/v1/posts/{id}/comments", add_comment);
  route("GET", "/api/v1/posts/{id}/comments", list_comments);
  route("POST", "/api/v1/posts/{id}/shares", [](edge_context& c, http_request& q, responder p) {
    engage(c, q, std::move(p), pb::Engagement::SHARE);
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
