#include "cluster_checker/chat_verdict.hpp"

#include <algorithm>
#include <set>
#include <tuple>

namespace parley::test {

namespace {

constexpr size_t max_findings = 20;

void note(chat_verdict& v, std::string line) {
  if (v.findings.size() < max_findings)
    v.findings.push_back(std::move(line));
}

} // namespace

chat_verdict judge_chat(const std::vector<chat_op>& ops,
                        const std::map<std::string, std::vector<stored_message>>& histories,
                        std::chrono::steady_clock::time_point origin) {
  chat_verdict v;
  // When each acknowledged message was acked, and through which node, for the findings.
  std::map<std::tuple<std::string, std::string, std::string>, std::string> when;
  for (auto& op : ops)
    if (op.what == chat_op::outcome::ok)
      when.emplace(std::make_tuple(op.conversation, op.user, op.client_msg_id),
                   " (sent at +" + std::to_string(std::chrono::duration_cast<
                     std::chrono::milliseconds>(op.sent - origin).count()) + " ms via n"
                     + std::to_string(op.node + 1) + ")");
  // (conversation, sender, client_msg_id) -> the seq every ack of it named.
  using key = std::tuple<std::string, std::string, std::string>;
  std::map<key, uint64_t> acked;
  std::set<key> sent;
  for (auto& op : ops) {
    ++v.operations;
    v.retries += op.retry ? 1 : 0;
    key k{op.conversation, op.user, op.client_msg_id};
    sent.insert(k);
    switch (op.what) {
      case chat_op::outcome::ok: {
        ++v.ok;
        auto [it, first] = acked.emplace(k, op.seq);
        if (!first && it->second != op.seq) {
          ++v.ack_conflicts;
          note(v, "ack conflict: " + op.client_msg_id + " in " + op.conversation + " acked as seq "
                    + std::to_string(it->second) + " and as seq " + std::to_string(op.seq));
        }
        break;
      }
      case chat_op::outcome::error:
        ++v.errors;
        ++v.error_codes[op.code];
        break;
      case chat_op::outcome::timeout:
        ++v.timeouts;
        break;
    }
  }
  v.acknowledged = acked.size();
  std::map<std::pair<std::string, uint64_t>, const key*> slot;  // (conversation, seq) -> acked
  for (auto& entry : acked) {
    auto [it, first] = slot.emplace(std::make_pair(std::get<0>(entry.first), entry.second),
                                    &entry.first);
    if (!first) {
      ++v.seq_acked_twice;
      note(v, std::get<0>(entry.first) + ": seq " + std::to_string(entry.second)
                + " acknowledged for " + std::get<2>(*it->second) + " and for "
                + std::get<2>(entry.first));
    }
  }

  std::map<key, std::vector<uint64_t>> found;  // where each message is stored
  for (auto& [conversation, messages] : histories) {
    std::map<uint64_t, uint64_t> per_seq;
    uint64_t highest = 0;
    for (auto& m : messages) {
      ++v.stored;
      ++per_seq[m.seq];
      highest = std::max(highest, m.seq);
      key k{conversation, m.sender, m.client_msg_id};
      found[k].push_back(m.seq);
      if (sent.count(k) == 0) {
        ++v.unknown;
        note(v, "unknown message " + m.client_msg_id + " from " + m.sender + " in "
                  + conversation + " at seq " + std::to_string(m.seq));
      }
    }
    for (auto& [seq, n] : per_seq)
      if (n > 1) {
        v.seq_duplicates += n - 1;
        note(v, conversation + ": seq " + std::to_string(seq) + " stored " + std::to_string(n)
                  + " times");
      }
    for (uint64_t s = 1; s <= highest; ++s)
      if (per_seq.count(s) == 0) {
        ++v.seq_gaps;
        note(v, conversation + ": seq " + std::to_string(s) + " missing (highest "
                  + std::to_string(highest) + ")");
      }
  }

  for (auto& [k, seq] : acked) {
    auto& [conversation, user, id] = k;
    auto it = found.find(k);
    if (it == found.end()) {
      ++v.lost;
      note(v, "lost: " + id + " of " + user + " in " + conversation + ", acked as seq "
                + std::to_string(seq) + when[k]);
      continue;
    }
    if (it->second.size() > 1) {
      ++v.duplicated;
      note(v, "duplicated: " + id + " in " + conversation + " stored "
                + std::to_string(it->second.size()) + " times");
    }
    if (it->second.front() != seq) {
      ++v.wrong_seq;
      note(v, "wrong seq: " + id + " in " + conversation + " acked as seq " + std::to_string(seq)
                + ", stored at seq " + std::to_string(it->second.front()) + when[k]);
    }
  }
  for (auto& [k, seqs] : found) {
    if (acked.count(k) != 0 || sent.count(k) == 0)
      continue;
    ++v.present_unacknowledged;
    // The client_msg_id is the send's idempotency key: even a send nobody heard back from
    // must not be stored twice.
    if (seqs.size() > 1) {
      ++v.duplicated;
      note(v, "duplicated (unacknowledged): " + std::get<2>(k) + " in " + std::get<0>(k)
                + " stored " + std::to_string(seqs.size()) + " times");
    }
  }
  return v;
}

} // namespace parley::test
