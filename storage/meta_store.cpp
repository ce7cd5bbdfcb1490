#include "storage/meta_store.hpp"

#include "storage/record.hpp"

#include <charconv>
#include <random>

namespace parley::storage {

namespace {

constexpr const char* node_id_key = "node_id";
constexpr const char* schema_key = "schema_version";
constexpr const char* only_replicated_key = "only_replicated_records";

std::string random_node_id() {
  std::random_device rd;
  std::uniform_int_distribution<int> hex{0, 15};
  std::string id = "n-";
  for (int i = 0; i < 12; ++i)
    id.push_back("0123456789abcdef"[hex(rd)]);
  return id;
}

} // namespace

result<std::string> meta_store::load_or_create_node_id() {
  fault err;
  auto version = db_.get(family::meta, schema_key, err);
  if (err)
    return err;
  int stored_version = 0;
  if (version) {
    auto [end, ec] = std::from_chars(version->data(), version->data() + version->size(),
                                     stored_version);
    if (ec != std::errc{} || end != version->data() + version->size())
      return corrupt_record(family::meta, schema_key);
  }
  if (version && stored_version > schema_version)
    return make_fault(errc::internal, "data directory has schema version " + *version
                                        + ", this build reads up to "
                                        + std::to_string(schema_version));
  auto id = db_.get(family::meta, node_id_key, err);
  if (err)
    return err;
  if (id && version)
    return std::move(*id);
  write_set set;
  auto node_id = id ? *id : random_node_id();
  set.put(family::meta, node_id_key, node_id);
  set.put(family::meta, schema_key, std::to_string(schema_version));
  if (auto failed = db_.write({&set}, true))
    return failed;
  return node_id;
}

result<bool> meta_store::note_replication(bool replicating) {
  fault err;
  auto marked = db_.get(family::meta, only_replicated_key, err);
  if (err)
    return err;
  write_set set;
  if (!replicating) {
    if (!marked)
      return false;
    set.del(family::meta, only_replicated_key);
  } else {
    if (marked)
      return true;
    auto specs = family_specs();
    for (size_t i = 0; i < family_count; ++i) {
      if (!replicated_family(specs[i].id))
        continue;
      bool any = false;
      auto failed = db_.scan(specs[i].id, {}, {}, [&](std::string_view, std::string_view) {
        any = true;
        return false;
      });
      if (failed)
        return failed;
      if (any)
        return false;  // data from before replication: never marked
    }
    set.put(family::meta, only_replicated_key, "1");
  }
  if (auto failed = db_.write({&set}, true))
    return failed;
  return replicating;
}

} // namespace parley::storage
