// The chat data model on disk (docs/storage.md): messages stored once per conversation under
// conversation|seq, conversation records, each user's conversations, delivered and read
// cursors, the per-user pending index that sync walks, and send dedup records. Reads are
// synchronous point gets and short range scans; writes are added to a write_set that the
// caller commits through the group-commit writer.
#pragma once

#include "common/errc.hpp"
#include "common/result.hpp"
#include "storage/engine.hpp"
#include "storage/write_set.hpp"

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace parley::storage {

struct chat_message {
  uint64_t seq = 0;
  std::string sender_id;
  std::string client_msg_id;
  std::string body;
  int64_t sent_at_ms = 0;
};

// When a group member joined: it sees messages with seq > after_seq only; `order` ranks members
// by age (0: a founding member; later additions count up).
struct member_join {
  uint64_t after_seq = 0;
  uint64_t order = 0;
};

struct conversation_record {
  bool group = false;
  std::string title;
  std::vector<std::string> members;  // sorted, unique
  int64_t created_at_ms = 0;
  // Groups only (docs/chat.md, Groups).
  std::vector<std::string> admins;  // sorted, unique, a subset of members
  std::string creator;              // empty in records written before admins existed
  std::map<std::string, member_join> joins;  // members added after creation
  uint64_t next_join_order = 1;

  // Where `user` joined (founding members: seq 0, order 0).
  member_join join_of(const std::string& user) const;
};

struct dedup_record {
  uint64_t seq = 0;
  int64_t sent_at_ms = 0;
};

// Reads answer a result: the value, or the storage fault (unavailable, internal). A record or
// key that does not parse is a fault (internal, storage/record.hpp), never absent or skipped.
class chat_store {
public:
  explicit chat_store(engine& db) : db_(db) {}

  // -- conversations ---------------------------------------------------------------------------

  result<std::optional<conversation_record>> conversation(const std::string& conv) const;

  // The highest stored seq of a conversation (0 when it has none).
  result<uint64_t> last_seq(const std::string& conv) const;

  // Writes the record and the membership index for added and removed members.
  void put_conversation(write_set& ws, const std::string& conv, const conversation_record& rec,
                        const std::vector<std::string>& added,
                        const std::vector<std::string>& removed) const;

  // The conversations `user` is a member of.
  result<std::vector<std::string>> conversations_of(const std::string& user) const;

  // The groups `user` is a member of, sorted (a range scan of the membership index).
  result<std::vector<std::string>> groups_of(const std::string& user) const;

  // True when `user` is a member of `conv` (one point read of the membership index).
  result<bool> is_member(const std::string& user, const std::string& conv) const;

  // -- messages --------------------------------------------------------------------------------

  // Stores the message once and its dedup record.
  void put_message(write_set& ws, const std::string& conv, const chat_message& msg) const;

  // Writes a dedup record again as it is (a retried send's barrier: conversation_actor.cpp).
  void put_dedup(write_set& ws, const std::string& sender, const std::string& conv,
                 const std::string& client_msg_id, const dedup_record& rec) const;

  // Marks `conv` pending up to `seq` for every member: once per written batch, not per message.
  void put_pending(write_set& ws, const std::string& conv, uint64_t seq,
                   const std::vector<std::string>& members) const;

  // Messages with seq in (after, up_to], oldest first, at most `limit`.
  result<std::vector<chat_message>> messages_between(const std::string& conv, uint64_t after,
                                                     uint64_t up_to, size_t limit) const;

  // Messages with after < seq < before (before 0: no bound), newest first, at most `limit`.
  result<std::vector<chat_message>> history(const std::string& conv, uint64_t before,
                                            size_t limit, uint64_t after = 0) const;

  // The ack of an earlier send with this client_msg_id, nullopt when there was none. A record
  // that does not parse is a fault: taking it for "none" would store a retried send twice.
  result<std::optional<dedup_record>> dedup(const std::string& sender, const std::string& conv,
                                            const std::string& client_msg_id) const;

  // -- cursors and the pending index -----------------------------------------------------------

  // 0 when the device never acknowledged anything in `conv`.
  result<uint64_t> delivered(const std::string& user, const std::string& device,
                             const std::string& conv) const;
  void put_delivered(write_set& ws, const std::string& user, const std::string& device,
                     const std::string& conv, uint64_t seq) const;

  result<uint64_t> read(const std::string& user, const std::string& conv) const;
  void put_read(write_set& ws, const std::string& user, const std::string& conv,
                uint64_t seq) const;

  // (conversation, newest pending seq) for every conversation with messages some device of
  // `user` may not have acknowledged.
  result<std::vector<std::pair<std::string, uint64_t>>> pending_of(const std::string& user) const;
  void clear_pending(write_set& ws, const std::string& user, const std::string& conv) const;

  // Devices of `user` that ever acknowledged delivery (their cursors decide the pending index).
  result<std::vector<std::string>> devices_of(const std::string& user) const;
  void put_device(write_set& ws, const std::string& user, const std::string& device) const;

  // -- presence --------------------------------------------------------------------------------

  // 0 when `user` was never seen.
  result<int64_t> last_seen_ms(const std::string& user) const;
  void put_last_seen(write_set& ws, const std::string& user, int64_t ms) const;

private:
  // The string part following `prefix` of every key of `fam` that starts with prefix + `more`.
  result<std::vector<std::string>> names_under(family fam, const std::string& prefix,
                                                const std::string& more = {}) const;

  engine& db_;
};

} // namespace parley::storage
