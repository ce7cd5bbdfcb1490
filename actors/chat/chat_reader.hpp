// The chat reader: the per-user index reads of connection actors (their conversation list, the
// conversations a sync must visit, presence visibility), answered by a few actors on threads of
// their own. A connection actor never reads RocksDB: a slow read (a cold block, a compaction
// stall) waits here, not on a scheduler thread that other connections' actors need.
// Interface: chat_reader_api (actors/chat/chat_api.hpp).
#pragma once

#include "actors/chat/chat_api.hpp"
#include "storage/chat_store.hpp"

#include <caf/fwd.hpp>

#include <string>
#include <vector>

namespace parley::chat {

// Readers a node runs: the reads are short, two threads keep one slow read from holding the rest.
constexpr size_t chat_reader_threads = 2;

// Spawns one reader (detached: a thread of its own). `store` must outlive it.
chat_reader_api spawn_chat_reader(caf::actor_system& sys, const storage::chat_store& store);

// The reader for `user`: one user's reads go to one reader, in order.
const chat_reader_api& reader_for(const std::vector<chat_reader_api>& readers,
                                  const std::string& user);

} // namespace parley::chat
