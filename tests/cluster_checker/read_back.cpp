#include "cluster_checker/read_back.hpp"

#include "proto/parley.pb.h"
#include "support/chat_client.hpp"
#include "support/test_cluster.hpp"

#include <catch2/catch.hpp>
#include <google/protobuf/util/json_util.h>

#include <set>

namespace parley::test {

namespace {

stored_task stored(const pb::Task& t) {
  stored_task s;
  s.id = t.id();
  s.status = pb::Task::Status_Name(t.status());
  auto& fields = t.payload().struct_value().fields();
  if (auto it = fields.find("key"); it != fields.end())
    s.key = it->second.string_value();
  return s;
}

} // namespace

std::vector<stored_message> read_history(chat_client& reader, const std::string& conversation) {
  std::vector<stored_message> all;
  uint64_t before = 0;
  for (int page = 0;; ++page) {
    auto answer = reader.call(R"({"request_id":"h)" + std::to_string(page)
                              + R"(","history":{"conversation_id":")" + conversation
                              + R"(","limit":100,"before_seq":")" + std::to_string(before)
                              + R"("}})");
    INFO(answer.ShortDebugString());
    REQUIRE(answer.has_history_page());
    for (auto& m : answer.history_page().messages()) {
      all.push_back({m.seq(), m.sender_id(), m.client_msg_id()});
      before = m.seq();
    }
    if (!answer.history_page().has_more() || answer.history_page().messages().empty())
      return all;
  }
}

std::map<std::string, stored_task> read_tasks(const test_cluster& cluster, uint32_t node,
                                              const std::string& token,
                                              const std::vector<task_op>& ops) {
  std::set<std::string> ids;
  for (auto& op : ops)
    if (op.result == task_op::outcome::ok && !op.task_id.empty())
      ids.insert(op.task_id);
  std::map<std::string, stored_task> out;
  for (auto& id : ids) {
    auto res = cluster.call(node, "GET", "/api/v1/tasks/" + id, {}, bearer(token));
    INFO(id << ": " << res.status << " " << res.body);
    REQUIRE((res.status == 200 || res.status == 404));
    if (res.status == 404) {
      out[id] = {id, {}, {}};
      continue;
    }
    pb::Task t;
    REQUIRE(google::protobuf::util::JsonStringToMessage(res.body, &t).ok());
    out[id] = stored(t);
  }
  return out;
}

std::vector<stored_task> list_tasks(const test_cluster& cluster, uint32_t node,
                                    const std::string& token, const std::string& task_type) {
  std::vector<stored_task> all;
  std::string cursor;
  for (;;) {
    auto res = cluster.call(node, "GET",
                            "/api/v1/tasks?task_type=" + task_type + "&limit=100"
                              + (cursor.empty() ? "" : "&cursor=" + cursor),
                            {}, bearer(token));
    INFO(res.status << " " << res.body);
    REQUIRE(res.status == 200);
    pb::TaskList page;
    REQUIRE(google::protobuf::util::JsonStringToMessage(res.body, &page).ok());
    for (auto& t : page.tasks())
      all.push_back(stored(t));
    if (page.next_cursor().empty())
      return all;
    cursor = page.next_cursor();
  }
}

} // namespace parley::test
