// The hand-written feed JSON reads back, through protobuf's own parser, as the same message.
#include "net/feed_json.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>
#include <google/protobuf/util/time_util.h>

using namespace parley;
using google::protobuf::util::MessageDifferencer;
using google::protobuf::util::TimeUtil;

namespace {

pb::Post sample(const std::string& text) {
  pb::Post p;
  p.set_post_id("01m8gxpda6f3ey4scdng");
  p.set_author_id("alice.b-c_d");
  p.set_text(text);
  p.add_media_urls("https://cdn.example/a.png?x=\"1\"");
  p.add_media_urls("http://[::1]:8080/b");
  *p.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(1764323543878);
  p.set_likes(3);
  p.set_comments(0);
  p.set_shares(18446744073709551615ull);
  return p;
}

} // namespace

TEST_CASE("a feed page's JSON reads back as the same page") {
  pb::FeedPage page;
  auto* a = page.add_items();
  *a->mutable_post() = sample("quote \" backslash \\ control \x01 newline \n unicode \xC3\xA9");
  a->set_score(0.99999310064214231);
  auto* b = page.add_items();
  *b->mutable_post() = sample("");
  b->mutable_post()->clear_media_urls();
  b->set_score(100000);
  page.set_next_cursor("c1764323543878.01m8gxpda6f3ey4scdng");
  auto json = net::feed_page_json(page);
  pb::FeedPage back;
  INFO(json);
  REQUIRE(google::protobuf::util::JsonStringToMessage(json, &back).ok());
  CHECK(MessageDifferencer::Equals(page, back));
  // Defaults are printed, as PROTOCOL.md asks.
  CHECK(json.find("\"comments\":\"0\"") != std::string::npos);
  CHECK(json.find("\"media_urls\":[]") != std::string::npos);
  CHECK(net::feed_page_json(pb::FeedPage{}) == R"({"items":[],"next_cursor":""})");
}

TEST_CASE("a post's JSON matches protobuf's printer") {
  auto p = sample("hello");
  std::string theirs;
  google::protobuf::util::JsonPrintOptions opts;
  opts.preserve_proto_field_names = true;
  opts.always_print_primitive_fields = true;
  REQUIRE(google::protobuf::util::MessageToJsonString(p, &theirs, opts).ok());
  pb::Post a, b;
  REQUIRE(google::protobuf::util::JsonStringToMessage(net::post_json(p), &a).ok());
  REQUIRE(google::protobuf::util::JsonStringToMessage(theirs, &b).ok());
  CHECK(MessageDifferencer::Equals(a, b));
}
