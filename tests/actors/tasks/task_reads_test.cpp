// Merging the pages of a task list that several nodes answered (tasks::merge_pages): nothing
// missed, nothing repeated, in creation order, whichever node's scan stopped first.
#include "actors/tasks/task_reads.hpp"

#include <catch2/catch.hpp>

#include <string>
#include <vector>

using namespace parley;

namespace {

pb::TaskList page(std::vector<std::string> ids, std::string next) {
  pb::TaskList out;
  for (auto& id : ids)
    out.add_tasks()->set_id(id);
  out.set_next_cursor(std::move(next));
  return out;
}

std::vector<std::string> ids(const pb::TaskList& l) {
  std::vector<std::string> out;
  for (auto& t : l.tasks())
    out.push_back(t.id());
  return out;
}

} // namespace

TEST_CASE("merged pages of several nodes are one page in id order") {
  auto merged = tasks::merge_pages({page({"a", "d", "e"}, "e"), page({"b", "c"}, "")}, 3);
  CHECK(ids(merged) == std::vector<std::string>{"a", "b", "c"});
  CHECK(merged.next_cursor() == "c");  // d and e come again on the next page
}

TEST_CASE("a node whose scan stopped early bounds the merged page") {
  // The first node examined up to "c" only (a filtered query's budget): what the others found
  // after "c" waits for the next page, which starts at "c".
  auto merged = tasks::merge_pages({page({"b"}, "c"), page({"a", "d", "f"}, "f")}, 10);
  CHECK(ids(merged) == std::vector<std::string>{"a", "b"});
  CHECK(merged.next_cursor() == "c");
}

TEST_CASE("when every node reached its end the last page says so") {
  auto merged = tasks::merge_pages({page({"a"}, ""), page({"b"}, ""), page({}, "")}, 5);
  CHECK(ids(merged) == std::vector<std::string>{"a", "b"});
  CHECK(merged.next_cursor().empty());
  auto none = tasks::merge_pages({page({}, ""), page({}, "")}, 5);
  CHECK(none.tasks().empty());
  CHECK(none.next_cursor().empty());
}
