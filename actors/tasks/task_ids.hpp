// Task and lease identifiers. A task id is a time-ordered id (common/time_ordered_id.hpp: id
// order is creation order, which listing relies on). A task belongs to shard
// fnv1a(id) % task_shard_count; the shard count is part of the on-disk format (the due index is
// per shard), hence a constant and not a setting.
// A lease id is "<task id>.<13 random characters>": the random part is the fencing token, and
// the task id lets any request be routed to the owning shard without a lookup table.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace parley::tasks {

constexpr uint32_t task_shard_count = 16;

// A fresh id created at `now_ms` that belongs to `shard`.
std::string new_task_id(int64_t now_ms, uint32_t shard);

uint32_t shard_of(std::string_view task_id);

bool valid_task_id(std::string_view id);

std::string new_lease_id(std::string_view task_id);

// The task a well-formed lease id belongs to; nullopt for anything else.
std::optional<std::string> task_of_lease(std::string_view lease_id);

} // namespace parley::tasks
