#include "storage/ban_store.hpp"

#include "storage/record.hpp"
#include "storage/write_set.hpp"

namespace parley::storage {

namespace {

constexpr std::string_view prefix = "ban/";
// The first key after every "ban/..." key ('/' + 1 is '0').
constexpr std::string_view prefix_end = "ban0";

std::string key_of(const std::string& user) {
  return std::string{prefix} + user;
}

} // namespace

result<std::vector<pb::BanRecord>> ban_store::load_all() const {
  std::vector<pb::BanRecord> out;
  fault corrupt;
  auto err = db_.scan(family::meta, prefix, prefix_end,
                      [&](std::string_view key, std::string_view value) {
                        pb::BanRecord ban;
                        if (!ban.ParseFromArray(value.data(), static_cast<int>(value.size()))) {
                          corrupt = corrupt_record(family::meta, key);
                          return false;
                        }
                        out.push_back(std::move(ban));
                        return true;
                      });
  if (err)
    return err;
  if (corrupt)
    return corrupt;
  return out;
}

fault ban_store::put(const pb::BanRecord& ban) {
  write_set ws;
  ws.put(family::meta, key_of(ban.user()), ban.SerializeAsString());
  return db_.write({&ws}, true);
}

fault ban_store::remove(const std::string& user) {
  write_set ws;
  ws.del(family::meta, key_of(user));
  return db_.write({&ws}, true);
}

} // namespace parley::storage
