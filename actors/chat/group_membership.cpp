#include "actors/chat/group_membership.hpp"

#include <algorithm>

namespace parley::chat {

namespace {

bool contains(const std::vector<std::string>& sorted, const std::string& x) {
  return std::binary_search(sorted.begin(), sorted.end(), x);
}

void insert_sorted(std::vector<std::string>& sorted, const std::string& x) {
  auto at = std::lower_bound(sorted.begin(), sorted.end(), x);
  if (at == sorted.end() || *at != x)
    sorted.insert(at, x);
}

void erase_sorted(std::vector<std::string>& sorted, const std::string& x) {
  auto at = std::lower_bound(sorted.begin(), sorted.end(), x);
  if (at != sorted.end() && *at == x)
    sorted.erase(at);
}

} // namespace

void ensure_admin(storage::conversation_record& rec) {
  if (!rec.group || !rec.admins.empty() || rec.members.empty())
    return;
  if (!rec.creator.empty() && contains(rec.members, rec.creator))
    rec.admins.push_back(rec.creator);
  else
    rec.admins.push_back(oldest_member(rec));
}

std::string oldest_member(const storage::conversation_record& rec) {
  const std::string* best = nullptr;
  uint64_t best_order = 0;
  // Members are sorted, so the first of equal orders has the smallest id.
  for (auto& m : rec.members) {
    auto order = rec.join_of(m).order;
    if (!best || order < best_order) {
      best = &m;
      best_order = order;
    }
  }
  return best ? *best : std::string{};
}

bool is_admin(const storage::conversation_record& rec, const std::string& user) {
  return contains(rec.admins, user);
}

fault change_members(const storage::conversation_record& rec, const std::string& actor, bool add,
                     const std::vector<std::string>& users, uint64_t last_seq,
                     size_t max_members, membership_change& out) {
  bool leaving = !add && users.size() == 1 && users.front() == actor;
  if (!leaving && !is_admin(rec, actor))
    return make_fault(errc::forbidden, add ? "only group admins add members"
                                           : "only group admins remove members; use leave");
  out = membership_change{rec, {}, {}};
  auto& next = out.next;
  for (auto& u : users) {
    bool present = contains(next.members, u);
    if (add && !present) {
      insert_sorted(next.members, u);
      // A member added again starts over: its earlier period is not visible any more.
      next.joins[u] = storage::member_join{last_seq, next.next_join_order};
      out.added.push_back(u);
    } else if (!add && present) {
      erase_sorted(next.members, u);
      erase_sorted(next.admins, u);
      next.joins.erase(u);
      out.removed.push_back(u);
    }
  }
  if (add && !out.added.empty())
    ++next.next_join_order;
  if (next.members.size() > max_members)
    return make_fault(errc::bad_request,
                      "a group has at most " + std::to_string(max_members) + " members");
  if (next.admins.empty() && !next.members.empty())
    next.admins.push_back(oldest_member(next));
  return {};
}

uint64_t hidden_up_to(const storage::conversation_record& rec, const std::string& user) {
  return rec.group ? rec.join_of(user).after_seq : 0;
}

} // namespace parley::chat
