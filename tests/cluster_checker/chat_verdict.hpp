// The checker's judgement of chat (issue 15): given every send's logged outcome and each
// conversation's history as read back after the faults healed, the acknowledged messages that
// were lost, duplicated or stored under another seq than acknowledged, acks of one
// client_msg_id that name different seqs, and seq gaps or duplicates. Messages present but never
// acknowledged are allowed (a timeout or an error may or may not have been written). Pure: no
// I/O, no Catch2, so it reads as the specification of the checks.
#pragma once

#include "cluster_checker/chat_op.hpp"

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace parley::test {

struct stored_message {
  uint64_t seq = 0;
  std::string sender;
  std::string client_msg_id;
};

struct chat_verdict {
  // -- counts --
  uint64_t operations = 0;
  uint64_t ok = 0;
  uint64_t errors = 0;
  uint64_t timeouts = 0;
  uint64_t retries = 0;
  std::map<std::string, uint64_t> error_codes;
  uint64_t acknowledged = 0;          // distinct client_msg_ids with an ok
  uint64_t stored = 0;                // messages read back
  uint64_t present_unacknowledged = 0;  // stored, never acked: allowed
  // -- violations (each must be 0) --
  uint64_t lost = 0;          // acked, not stored
  uint64_t duplicated = 0;    // acked, stored more than once
  uint64_t wrong_seq = 0;     // stored under another seq than its ack named
  uint64_t ack_conflicts = 0; // two acks of one client_msg_id with different seqs
  // Two different messages of one conversation acknowledged with the same seq: two nodes
  // acknowledged as the conversation's primary for the same slot.
  uint64_t seq_acked_twice = 0;
  uint64_t seq_gaps = 0;      // seqs missing below a conversation's highest
  uint64_t seq_duplicates = 0;
  uint64_t unknown = 0;       // stored, never sent by any worker
  // One line per violation, for the failure message (the first few).
  std::vector<std::string> findings;

  bool clean() const {
    return lost + duplicated + wrong_seq + ack_conflicts + seq_acked_twice + seq_gaps
           + seq_duplicates + unknown == 0;
  }
};

// `histories`: conversation id -> every stored message, in any order.
// `origin`: the time findings count from ("+<ms>" after the send's time).
chat_verdict judge_chat(const std::vector<chat_op>& ops,
                        const std::map<std::string, std::vector<stored_message>>& histories,
                        std::chrono::steady_clock::time_point origin = {});

} // namespace parley::test
