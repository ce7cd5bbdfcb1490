// Hand-written JSON for the feed's hot answers (a feed page, a post). Protobuf's JSON printer
// goes through reflection and cost a quarter of a feed read's CPU; these print the same JSON
// (proto field names, defaults included, 64-bit counters as strings, RFC 3339 times in UTC with
// milliseconds). Tested against the protobuf parser in tests/net/feed_json_test.cpp.
#pragma once

#include "proto/parley.pb.h"

#include <string>

namespace parley::net {

void append_post_json(std::string& out, const pb::Post& post);
std::string post_json(const pb::Post& post);
std::string feed_page_json(const pb::FeedPage& page);

} // namespace parley::net
