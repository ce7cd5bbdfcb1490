// Time-ordered identifiers shared by the services that need ids whose order is creation order
// (tasks, posts, comments): 20 lowercase Crockford base32 characters, 10 for the creation time in
// milliseconds, 3 for a per-process sequence (ids made in the same millisecond keep their
// creation order; it wraps every 32,768 ids) and 7 random. An id can be drawn so that it lands
// in a chosen shard (fnv1a(id) % shard_count), which lets a request be routed to its owner
// without a lookup.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace parley {

constexpr size_t time_ordered_id_chars = 20;

// fnv1a(id) % shard_count.
uint32_t id_shard(std::string_view id, uint32_t shard_count);

// A fresh id created at `now_ms` with id_shard(id, shard_count) == shard.
std::string new_time_ordered_id(int64_t now_ms, uint32_t shard, uint32_t shard_count);

// 20 characters of the id alphabet.
bool valid_time_ordered_id(std::string_view id);

// Appends `n` random characters of the id alphabet (not secret: a per-thread generator seeded
// from the CSPRNG).
void append_random_id_chars(std::string& out, size_t n);

// True when every character of `s` is in the id alphabet.
bool in_id_alphabet(std::string_view s);

} // namespace parley
