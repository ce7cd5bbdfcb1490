#include "storage/link_store.hpp"

#include "storage/key_codec.hpp"
#include "storage/record.hpp"

namespace parley::storage {

namespace {

std::string expiry_key(int64_t at_ms, const std::string& key) {
  return key_builder{}.u64(static_cast<uint64_t>(at_ms)).str(key).bytes();
}

} // namespace

result<bool> link_store::key_taken(const std::string& key) const {
  auto used = has_record(db_, family::links, key);
  if (!used || *used)
    return used;
  return has_record(db_, family::link_reserved, key);
}

result<std::optional<pb::StoredLink>> link_store::get(const std::string& key) const {
  return read_record<pb::StoredLink>(db_, family::links, key);
}

void link_store::put_link(write_set& ws, const std::string& key,
                          const pb::StoredLink& link) const {
  ws.put(family::links, key, link.SerializeAsString());
  ws.del(family::link_reserved, key);
  if (link.expires_at_ms() > 0)
    ws.put(family::link_expiry, expiry_key(link.expires_at_ms(), key), {});
}

void link_store::put_tombstone(write_set& ws, const std::string& key, const pb::StoredLink& link,
                               pb::StoredLink::State state) const {
  pb::StoredLink tomb;
  tomb.set_state(state);
  tomb.set_created_at_ms(link.created_at_ms());
  tomb.set_expires_at_ms(link.expires_at_ms());
  tomb.set_owner_id(link.owner_id());
  ws.put(family::links, key, tomb.SerializeAsString());
  if (link.expires_at_ms() > 0)
    ws.del(family::link_expiry, expiry_key(link.expires_at_ms(), key));
  ws.del(family::link_stats, key);
}

void link_store::reserve(write_set& ws, const std::string& key) const {
  ws.put(family::link_reserved, key, {});
}

result<std::vector<std::string>> link_store::reserved_keys() const {
  std::vector<std::string> out;
  auto err = db_.scan(family::link_reserved, {}, {}, [&](std::string_view key, std::string_view) {
    out.emplace_back(key);
    return true;
  });
  if (err)
    return err;
  return out;
}

result<std::vector<std::string>> link_store::expired_keys(int64_t now_ms, size_t max) const {
  std::vector<std::string> out;
  auto to = key_builder{}.u64(static_cast<uint64_t>(now_ms) + 1).bytes();
  auto err = scan_records(
    db_, family::link_expiry, {}, to,
    [&](std::string_view k, std::string_view) {
      key_reader r{k};
      r.u64();
      auto key = r.str();
      if (!key)
        return visit::corrupt;
      out.push_back(std::move(*key));
      return visit::next;
    },
    max);
  if (err)
    return err;
  return out;
}

result<std::optional<pb::StoredLinkStats>> link_store::get_stats(const std::string& key) const {
  return read_record<pb::StoredLinkStats>(db_, family::link_stats, key);
}

void link_store::put_stats(write_set& ws, const std::string& key,
                           const pb::StoredLinkStats& stats) const {
  ws.put(family::link_stats, key, stats.SerializeAsString());
}

} // namespace parley::storage
