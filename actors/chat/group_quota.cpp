#include "actors/chat/group_quota.hpp"

#include "common/metrics.hpp"

namespace parley::chat {

group_quota::group_quota(options opts, loader load) : opts_(opts), load_(std::move(load)) {
  // A sliding hour (the previous hour's count weighted by its overlap): no 2x burst at the
  // edge of a fixed hour, and one small state per user instead of a timestamp per creation.
  creation_.algo = limits::algorithm::sliding_window;
  creation_.limit = opts_.max_created_per_hour;
  creation_.window_ms = 3'600'000;
}

namespace {

// Calls f(entry) for each of `users` that has an entry, under its shard's lock.
template <class Table, class F>
void for_tracked(Table& table, const std::vector<std::string>& users, F f) {
  for (auto& user : users)
    table.with(user, [&](auto& s) {
      if (auto it = s.map.find(user); it != s.map.end())
        f(it->second);
    });
}

// A stale count is loaded again once nothing is in flight for the user.
template <class Entry>
void settle(Entry& e) {
  if (e.stale && e.removing == 0 && e.reserved == 0) {
    e.loaded = false;
    e.stale = false;
  }
}

} // namespace

int64_t group_quota::admit_creation(const std::string& user, int64_t now_ms) {
  auto v = users_.with(user, [&](auto& s) {
    maybe_sweep(s, now_ms);
    auto& e = s.map[user];
    e.last_used_ms = now_ms;
    return limits::check(e.created, creation_, now_ms, 1);
  });
  if (v.allowed)
    return 0;
  static auto& rejected = metrics::global().get_counter(
    "chat_limit_rejections_total", "Requests refused by a built-in per-user chat limit",
    "limit=\"max_groups_created_per_hour\"");
  rejected.inc();
  return std::max<int64_t>(1, v.retry_after_ms);
}

group_quota::entry* group_quota::loaded_entry(table::locked& lock, const std::string& user,
                                              fault& err) {
  auto& s = *lock;
  for (;;) {
    auto it = s.map.find(user);
    if (it != s.map.end() && it->second.loaded)
      return &it->second;
    auto generation = s.extra.generation;
    lock.unlock();
    auto count = load_(user, err);
    lock.lock();
    if (err || !count)
      return nullptr;
    // Another thread may have loaded (and changed) it meanwhile: its entry is the truth. A
    // sweep meanwhile may have dropped an entry whose write our scan missed: load again.
    if (s.extra.generation != generation)
      continue;
    auto& e = s.map[user];
    if (!e.loaded) {
      e.loaded = true;
      e.groups = static_cast<int64_t>(*count);
      e.stale = e.removing > 0;
    }
    return &e;
  }
}

fault group_quota::reserve(const std::vector<std::string>& users, int64_t now_ms) {
  std::vector<std::string> done;
  for (auto& user : users) {
    auto lock = users_.lock(user);
    maybe_sweep(*lock, now_ms);
    fault err;
    auto* e = loaded_entry(lock, user, err);
    if (!e || e->groups + e->reserved + 1 > static_cast<int64_t>(opts_.max_groups_per_user)) {
      lock.unlock();
      cancel(done);
      if (err)
        return err;
      static auto& rejected = metrics::global().get_counter(
        "chat_limit_rejections_total", "Requests refused by a built-in per-user chat limit",
        "limit=\"max_groups_per_user\"");
      rejected.inc();
      return make_fault(errc::too_large,
                        user + " is already a member of "
                          + std::to_string(opts_.max_groups_per_user)
                          + " groups (chat.max_groups_per_user)");
    }
    ++e->reserved;
    e->last_used_ms = now_ms;
    done.push_back(user);
  }
  return {};
}

void group_quota::commit(const std::vector<std::string>& users) {
  end_reservation(users, true);
}

void group_quota::cancel(const std::vector<std::string>& users) {
  end_reservation(users, false);
}

void group_quota::end_reservation(const std::vector<std::string>& users, bool stored) {
  for_tracked(users_, users, [&](entry& e) {
    --e.reserved;
    if (stored)
      ++e.groups;
    settle(e);
  });
}

void group_quota::begin_removal(const std::vector<std::string>& users, int64_t now_ms) {
  for (auto& user : users)
    users_.with(user, [&](auto& s) {
      auto& e = s.map[user];
      ++e.removing;
      e.last_used_ms = now_ms;
    });
}

void group_quota::end_removal(const std::vector<std::string>& users, bool stored) {
  for_tracked(users_, users, [&](entry& e) {
    --e.removing;
    if (stored && e.loaded && !e.stale && e.groups > 0)
      --e.groups;
    settle(e);
  });
}

void group_quota::sweep_locked(shard& s, int64_t now_ms) {
  s.extra.ops_since_sweep = 0;
  bool dropped = false;
  for (auto it = s.map.begin(); it != s.map.end();) {
    auto& e = it->second;
    if (e.reserved == 0 && e.removing == 0 && now_ms - e.last_used_ms >= opts_.keep_idle_ms
        && limits::idle(e.created, creation_, now_ms)) {
      it = s.map.erase(it);
      dropped = true;
    } else {
      ++it;
    }
  }
  if (dropped)
    ++s.extra.generation;
  // unordered_map keeps its bucket array at its peak size: rebuild it after a burst.
  if (s.map.bucket_count() > 64 && s.map.size() < s.map.bucket_count() / 8)
    s.map.rehash(0);
}

void group_quota::maybe_sweep(shard& s, int64_t now_ms) {
  // Amortized O(1): a shard is swept after as many operations as it has entries.
  if (++s.extra.ops_since_sweep > std::max<size_t>(1024, s.map.size()))
    sweep_locked(s, now_ms);
}

void group_quota::sweep(int64_t now_ms) {
  users_.for_each_shard([&](auto& s) { sweep_locked(s, now_ms); });
}

size_t group_quota::tracked_users() const {
  return users_.size();
}

std::optional<size_t> group_quota::groups_of(const std::string& user) const {
  return users_.with(user, [&](auto& s) -> std::optional<size_t> {
    auto it = s.map.find(user);
    if (it == s.map.end() || !it->second.loaded)
      return std::nullopt;
    return static_cast<size_t>(it->second.groups + it->second.reserved);
  });
}

} // namespace parley::chat
