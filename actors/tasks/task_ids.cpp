#include "actors/tasks/task_ids.hpp"

#include "common/time_ordered_id.hpp"

namespace parley::tasks {

namespace {

constexpr size_t fence_chars = 13;

} // namespace

uint32_t shard_of(std::string_view task_id) {
  return id_shard(task_id, task_shard_count);
}

std::string new_task_id(int64_t now_ms, uint32_t shard) {
  return new_time_ordered_id(now_ms, shard, task_shard_count);
}

bool valid_task_id(std::string_view id) {
  return valid_time_ordered_id(id);
}

std::string new_lease_id(std::string_view task_id) {
  std::string out{task_id};
  out.push_back('.');
  append_random_id_chars(out, fence_chars);
  return out;
}

std::optional<std::string> task_of_lease(std::string_view lease_id) {
  constexpr auto id_chars = time_ordered_id_chars;
  if (lease_id.size() != id_chars + 1 + fence_chars || lease_id[id_chars] != '.')
    return std::nullopt;
  auto task = lease_id.substr(0, id_chars);
  if (!valid_task_id(task) || !in_id_alphabet(lease_id.substr(id_chars + 1)))
    return std::nullopt;
  return std::string{task};
}

} // namespace parley::tasks
