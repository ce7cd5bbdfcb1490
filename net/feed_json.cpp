#include "net/feed_json.hpp"

#include "common/json_text.hpp"
#include "net/task_json.hpp"

#include <google/protobuf/util/time_util.h>

namespace parley::net {

namespace {

void append_counter(std::string& out, const char* name, uint64_t v) {
  out += ",\"";
  out += name;
  out += "\":\"";  // uint64 in protobuf's JSON mapping: a string
  out += std::to_string(v);
  out += '"';
}

} // namespace

void append_post_json(std::string& out, const pb::Post& post) {
  out += "{\"post_id\":";
  out += json_quote(post.post_id());
  out += ",\"author_id\":";
  out += json_quote(post.author_id());
  out += ",\"text\":";
  out += json_quote(post.text());
  out += ",\"media_urls\":[";
  for (int i = 0; i < post.media_urls_size(); ++i) {
    if (i > 0)
      out += ',';
    out += json_quote(post.media_urls(i));
  }
  out += "],\"created_at\":";
  append_time_json(out, google::protobuf::util::TimeUtil::TimestampToMilliseconds(
                          post.created_at()));
  append_counter(out, "likes", post.likes());
  append_counter(out, "comments", post.comments());
  append_counter(out, "shares", post.shares());
  out += '}';
}

std::string post_json(const pb::Post& post) {
  std::string out;
  append_post_json(out, post);
  return out;
}

std::string feed_page_json(const pb::FeedPage& page) {
  std::string out;
  out.reserve(256 + 512 * static_cast<size_t>(page.items_size()));
  out += "{\"items\":[";
  for (int i = 0; i < page.items_size(); ++i) {
    if (i > 0)
      out += ',';
    out += "{\"post\":";
    append_post_json(out, page.items(i).post());
    out += ",\"score\":";
    append_double_json(out, page.items(i).score());
    out += '}';
  }
  out += "],\"next_cursor\":";
  out += json_quote(page.next_cursor());
  out += '}';
  return out;
}

} // namespace parley::net
