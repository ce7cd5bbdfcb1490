#include "net/task_json.hpp"

#include "common/civil_date.hpp"
#include "common/json_text.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdlib>
#include <cmath>
#include <cstdio>

namespace parley::net {

namespace {

using google::protobuf::util::TimeUtil;

void append_field(std::string& out, const char* name) {
  if (out.back() != '{')
    out += ',';
  out += '"';
  out += name;
  out += "\":";
}

void append_string_field(std::string& out, const char* name, const std::string& v) {
  append_field(out, name);
  out += json_quote(v);
}

void append_int_field(std::string& out, const char* name, int64_t v) {
  append_field(out, name);
  out += std::to_string(v);
}

void append_time_field(std::string& out, const char* name,
                       const google::protobuf::Timestamp& ts) {
  append_field(out, name);
  append_time_json(out, TimeUtil::TimestampToMilliseconds(ts));
}

void append_schedule(std::string& out, const pb::TaskSchedule& s) {
  out += '{';
  append_string_field(out, "type", s.type());
  if (s.has_run_at())
    append_time_field(out, "run_at", s.run_at());
  append_string_field(out, "cron", s.cron());
  out += '}';
}

void append_retry(std::string& out, const pb::RetryPolicy& p) {
  out += '{';
  append_int_field(out, "max_retries", p.max_retries());
  append_string_field(out, "backoff", p.backoff());
  append_int_field(out, "initial_delay_sec", p.initial_delay_sec());
  out += '}';
}

} // namespace

void append_double_json(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";  // a Value payload cannot hold these; a feed score never is one
    return;
  }
  // As protobuf prints doubles: %.15g, or %.17g when 15 digits do not read back exactly
  // (so 100000 stays 100000, not the 1e+05 a shortest-form printer would choose).
  char buf[40];
  auto n = std::snprintf(buf, sizeof buf, "%.15g", v);
  if (std::strtod(buf, nullptr) != v)
    n = std::snprintf(buf, sizeof buf, "%.17g", v);
  out.append(buf, static_cast<size_t>(n));
}

namespace {

// `v` in exactly `width` decimal digits, zero-padded (printf's "%0*u" without its parsing).
void append_padded(std::string& out, uint64_t v, int width) {
  char buf[20];
  for (int i = width - 1; i >= 0; --i) {
    buf[i] = static_cast<char>('0' + v % 10);
    v /= 10;
  }
  out.append(buf, static_cast<size_t>(width));
}

} // namespace

void append_time_json(std::string& out, int64_t unix_ms) {
  auto days = unix_ms >= 0 ? unix_ms / 86400000 : -((-unix_ms + 86399999) / 86400000);
  auto in_day = unix_ms - days * 86400000;
  auto [y, m, d] = civil_from_days(days);
  out += '"';
  if (y >= 0 && y <= 9999) {
    append_padded(out, static_cast<uint64_t>(y), 4);
  } else {
    out += std::to_string(y);  // outside protobuf's range (0001-9999): printed as a number
  }
  out += '-';
  append_padded(out, m, 2);
  out += '-';
  append_padded(out, d, 2);
  out += 'T';
  append_padded(out, static_cast<uint64_t>(in_day / 3600000), 2);
  out += ':';
  append_padded(out, static_cast<uint64_t>(in_day / 60000 % 60), 2);
  out += ':';
  append_padded(out, static_cast<uint64_t>(in_day / 1000 % 60), 2);
  if (auto ms = in_day % 1000; ms != 0) {
    // Protobuf prints 3, 6 or 9 fraction digits, and none for whole seconds.
    out += '.';
    append_padded(out, static_cast<uint64_t>(ms), 3);
  }
  out += "Z\"";
}

void append_value_json(std::string& out, const google::protobuf::Value& v) {
  using K = google::protobuf::Value::KindCase;
  switch (v.kind_case()) {
    case K::kNumberValue:
      append_double_json(out, v.number_value());
      return;
    case K::kStringValue:
      out += json_quote(v.string_value());
      return;
    case K::kBoolValue:
      out += v.bool_value() ? "true" : "false";
      return;
    case K::kStructValue: {
      // Sorted keys: the same bytes for the same payload, whatever the map's iteration order.
      std::vector<const std::string*> keys;
      for (auto& [key, value] : v.struct_value().fields())
        keys.push_back(&key);
      std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return *a < *b; });
      out += '{';
      bool first = true;
      for (auto* key : keys) {
        if (!first)
          out += ',';
        first = false;
        out += json_quote(*key);
        out += ':';
        append_value_json(out, v.struct_value().fields().at(*key));
      }
      out += '}';
      return;
    }
    case K::kListValue: {
      out += '[';
      bool first = true;
      for (auto& item : v.list_value().values()) {
        if (!first)
          out += ',';
        first = false;
        append_value_json(out, item);
      }
      out += ']';
      return;
    }
    case K::kNullValue:
    case K::KIND_NOT_SET:
      out += "null";
      return;
  }
}

std::string task_json(const pb::Task& t) {
  std::string out;
  out.reserve(512);
  out += '{';
  append_string_field(out, "id", t.id());
  append_string_field(out, "task_type", t.task_type());
  append_field(out, "payload");
  append_value_json(out, t.payload());
  append_string_field(out, "status", pb::Task::Status_Name(t.status()));
  append_int_field(out, "priority", t.priority());
  append_int_field(out, "attempt", t.attempt());
  append_int_field(out, "max_retries", t.max_retries());
  append_field(out, "schedule");
  append_schedule(out, t.schedule());
  if (t.has_next_run_at())
    append_time_field(out, "next_run_at", t.next_run_at());
  append_string_field(out, "last_error", t.last_error());
  append_field(out, "result");
  append_value_json(out, t.result());
  append_time_field(out, "created_at", t.created_at());
  append_time_field(out, "updated_at", t.updated_at());
  append_field(out, "retry_policy");
  append_retry(out, t.retry_policy());
  append_int_field(out, "timeout_sec", t.timeout_sec());
  append_string_field(out, "idempotency_key", t.idempotency_key());
  out += '}';
  return out;
}

std::string leases_json(const pb::LeaseResponse& leases) {
  std::string out = "{\"leases\":[";
  bool first = true;
  for (auto& l : leases.leases()) {
    if (!first)
      out += ',';
    first = false;
    out += '{';
    append_string_field(out, "lease_id", l.lease_id());
    append_string_field(out, "task_id", l.task_id());
    append_int_field(out, "attempt", l.attempt());
    append_string_field(out, "task_type", l.task_type());
    append_field(out, "payload");
    append_value_json(out, l.payload());
    append_time_field(out, "lease_expires_at", l.lease_expires_at());
    out += '}';
  }
  out += "]}";
  return out;
}

} // namespace parley::net
