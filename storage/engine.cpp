#include "storage/engine.hpp"

#include "storage/status.hpp"

#include <rocksdb/cache.h>
#include <rocksdb/db.h>
#include <rocksdb/filter_policy.h>
#include <rocksdb/options.h>
#include <rocksdb/table.h>
#include <rocksdb/write_batch.h>

#include <filesystem>

namespace parley::storage {

namespace {

rocksdb::ColumnFamilyOptions family_options(const storage_options& opts, const family_spec& spec,
                                            const std::shared_ptr<rocksdb::Cache>& cache) {
  rocksdb::ColumnFamilyOptions cf;
  cf.write_buffer_size = opts.write_buffer_mb << 20;
  cf.compression = rocksdb::kLZ4Compression;
  cf.bottommost_compression = rocksdb::kZSTD;
  rocksdb::BlockBasedTableOptions table;
  table.block_cache = cache;
  table.cache_index_and_filter_blocks = true;
  table.pin_l0_filter_and_index_blocks_in_cache = true;
  if (spec.point_lookups) {
    // Whole-key bloom filters make a Get for an absent key (an unknown short link, a fresh
    // dedup key) cost no disk read.
    table.filter_policy.reset(rocksdb::NewBloomFilterPolicy(opts.bloom_bits_per_key));
    cf.optimize_filters_for_hits = false;
  }
  cf.table_factory.reset(rocksdb::NewBlockBasedTableFactory(table));
  return cf;
}

} // namespace

bool parse_sync_mode(const std::string& text, sync_mode& out) {
  if (text == "batch")
    out = sync_mode::batch;
  else if (text == "always")
    out = sync_mode::always;
  else if (text == "none")
    out = sync_mode::none;
  else
    return false;
  return true;
}

const char* to_string(sync_mode mode) {
  switch (mode) {
    case sync_mode::batch: return "batch";
    case sync_mode::always: return "always";
    case sync_mode::none: return "none";
  }
  return "batch";
}

engine::engine(storage_options opts) : opts_(std::move(opts)) {
}

std::unique_ptr<engine> engine::open(const storage_options& opts, fault& err) {
  std::unique_ptr<engine> self{new engine(opts)};
  std::error_code ec;
  std::filesystem::create_directories(opts.data_dir, ec);
  if (ec) {
    err = make_fault(errc::internal, "cannot create " + opts.data_dir + ": " + ec.message());
    return nullptr;
  }

  self->cache_ = rocksdb::NewLRUCache(opts.block_cache_mb << 20);
  rocksdb::DBOptions db_opts;
  db_opts.create_if_missing = true;
  db_opts.create_missing_column_families = true;
  db_opts.max_background_jobs = 2;
  db_opts.bytes_per_sync = 1 << 20;
  db_opts.info_log_level = rocksdb::WARN_LEVEL;
  db_opts.keep_log_file_num = 3;

  std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
  descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions{});
  for (size_t i = 0; i < family_count; ++i) {
    auto& spec = family_specs()[i];
    descriptors.emplace_back(std::string{spec.name}, family_options(opts, spec, self->cache_));
  }

  std::vector<rocksdb::ColumnFamilyHandle*> handles;
  rocksdb::DB* raw = nullptr;
  auto st = rocksdb::DB::Open(db_opts, opts.data_dir, descriptors, &handles, &raw);
  if (!st.ok()) {
    err = to_fault(st, "open " + opts.data_dir);
    return nullptr;
  }
  self->db_.reset(raw);
  self->default_handle_ = handles[0];
  self->handles_.assign(handles.begin() + 1, handles.end());
  return self;
}

engine::~engine() {
  if (!db_)
    return;
  for (auto* h : handles_)
    db_->DestroyColumnFamilyHandle(h).PermitUncheckedError();
  db_->DestroyColumnFamilyHandle(default_handle_).PermitUncheckedError();
  // Close reports only problems of background work that the WAL already covers.
  db_->Close().PermitUncheckedError();
}

rocksdb::ColumnFamilyHandle* engine::handle(family fam) const {
  return handles_[static_cast<size_t>(fam)];
}

std::optional<std::string> engine::get(family fam, std::string_view key, fault& err) const {
  std::string value;
  auto st = db_->Get(rocksdb::ReadOptions{}, handle(fam), rocksdb::Slice{key.data(), key.size()},
                     &value);
  if (st.IsNotFound())
    return std::nullopt;
  if (!st.ok()) {
    err = to_fault(st, "get");
    return std::nullopt;
  }
  return value;
}

snapshot_view::~snapshot_view() {
  db_->ReleaseSnapshot(at_);
}

std::shared_ptr<const snapshot_view> engine::snapshot() const {
  return std::make_shared<snapshot_view>(db_.get(), db_->GetSnapshot());
}

fault engine::scan(family fam, std::string_view from, std::string_view to,
                   const std::function<bool(std::string_view, std::string_view)>& fn,
                   size_t limit, const snapshot_view* at) const {
  rocksdb::ReadOptions ro;
  if (at)
    ro.snapshot = at->get();
  rocksdb::Slice upper{to.data(), to.size()};
  if (!to.empty())
    ro.iterate_upper_bound = &upper;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro, handle(fam))};
  size_t visited = 0;
  for (it->Seek(rocksdb::Slice{from.data(), from.size()}); it->Valid(); it->Next()) {
    auto k = it->key();
    auto v = it->value();
    ++visited;
    if (!fn({k.data(), k.size()}, {v.data(), v.size()}) || (limit != 0 && visited >= limit))
      break;
  }
  return to_fault(it->status(), "scan");
}

fault engine::scan_reverse(family fam, std::string_view from, std::string_view to,
                           const std::function<bool(std::string_view, std::string_view)>& fn,
                           size_t limit, const snapshot_view* at) const {
  rocksdb::ReadOptions ro;
  if (at)
    ro.snapshot = at->get();
  rocksdb::Slice lower{from.data(), from.size()};
  ro.iterate_lower_bound = &lower;
  std::unique_ptr<rocksdb::Iterator> it{db_->NewIterator(ro, handle(fam))};
  if (to.empty())
    it->SeekToLast();
  else
    it->SeekForPrev(rocksdb::Slice{to.data(), to.size()});
  // SeekForPrev lands on `to` itself when present; the range is half-open.
  if (it->Valid() && !to.empty() && it->key() == rocksdb::Slice{to.data(), to.size()})
    it->Prev();
  size_t visited = 0;
  for (; it->Valid(); it->Prev()) {
    auto k = it->key();
    auto v = it->value();
    ++visited;
    if (!fn({k.data(), k.size()}, {v.data(), v.size()}) || (limit != 0 && visited >= limit))
      break;
  }
  return to_fault(it->status(), "scan");
}

fault engine::write(const std::vector<const write_set*>& sets, bool sync) {
  rocksdb::WriteBatch batch;
  for (auto* set : sets) {
    for (auto& op : set->ops()) {
      rocksdb::Slice key{op.key};
      auto st = op.is_delete ? batch.Delete(handle(op.fam), key)
                             : batch.Put(handle(op.fam), key, rocksdb::Slice{op.value});
      if (!st.ok())
        return to_fault(st, "batch");
    }
  }
  rocksdb::WriteOptions wo;
  wo.sync = sync;
  return to_fault(db_->Write(wo, &batch), "write");
}

fault engine::sync_wal() {
  return to_fault(db_->FlushWAL(true), "sync wal");
}

} // namespace parley::storage
