// Hand-written JSON for the scheduler's hot answers (a created task, a batch of leases, a lease
// outcome). Protobuf's JSON printer goes through reflection and a type resolver for
// google.protobuf.Value payloads and cost more CPU than the rest of a create; these print the
// same JSON (proto field names, defaults included, RFC 3339 times in UTC with milliseconds).
// Tested against the protobuf printer in tests/net/task_json_test.cpp.
#pragma once

#include "proto/parley.pb.h"

#include <string>
#include <vector>

namespace parley::net {

// JSON of any google.protobuf.Value (numbers in the shortest form that reads back exactly).
void append_value_json(std::string& out, const google::protobuf::Value& v);

// "2026-11-28T09:42:01.123Z"
void append_time_json(std::string& out, int64_t unix_ms);

// A double as protobuf's printer writes it (net/feed_json.cpp shares this and the time).
void append_double_json(std::string& out, double v);

std::string task_json(const pb::Task& t);
std::string leases_json(const pb::LeaseResponse& leases);

} // namespace parley::net
