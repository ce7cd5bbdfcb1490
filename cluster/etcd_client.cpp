#include "cluster/etcd_client.hpp"

#include "cluster/etcd_gateway.hpp"
#include "proto/etcd_gateway.pb.h"

#include <utility>

namespace parley::cluster {

namespace {

namespace pbe = parley::pb::etcd;

etcd_kv from_pb(const pbe::KeyValue& kv) {
  etcd_kv out;
  out.key = kv.key();
  out.value = kv.value();
  out.create_revision = kv.create_revision();
  out.mod_revision = kv.mod_revision();
  out.version = kv.version();
  out.lease = kv.lease();
  return out;
}

fault stream_fault(const pbe::StreamError& e, std::string_view what) {
  return make_fault(from_grpc_code(e.grpc_code()), std::string{what} + ": " + e.message());
}

} // namespace

std::string prefix_range_end(std::string_view prefix) {
  std::string end{prefix};
  while (!end.empty()) {
    auto& last = reinterpret_cast<unsigned char&>(end.back());
    if (last < 0xff) {
      ++last;
      return end;
    }
    end.pop_back();
  }
  // Every byte was 0xff (or there was none): the range runs to the end of the key space.
  return std::string(1, '\0');
}

etcd_client::etcd_client(etcd_options opts)
  : gateway_(std::make_unique<etcd_gateway>(std::move(opts))) {}

etcd_client::~etcd_client() = default;

void etcd_client::set_abort_flag(const std::atomic<bool>* flag) {
  gateway_->set_abort_flag(flag);
}

// -- leases -------------------------------------------------------------------------------------

result<etcd_lease> etcd_client::grant_lease(std::chrono::seconds ttl) {
  pbe::LeaseGrantRequest req;
  req.set_ttl(ttl.count());
  pbe::LeaseGrantResponse res;
  // Granting twice leaves an unused lease behind, which expires by itself.
  if (auto f = gateway_->call("/v3/lease/grant", req, res, resend::safe))
    return f;
  if (!res.error().empty())
    return make_fault(errc::unavailable, "etcd lease grant: " + res.error());
  if (res.id() == 0)
    return make_fault(errc::internal, "etcd lease grant: an answer without a lease id");
  return etcd_lease{res.id(), std::chrono::seconds{res.ttl()}};
}

result<std::chrono::seconds> etcd_client::keep_alive_once(int64_t lease) {
  pbe::LeaseKeepAliveRequest req;
  req.set_id(lease);
  // A stream endpoint: one request in the body gives one answer, wrapped as a stream item.
  pbe::KeepAliveStreamItem res;
  if (auto f = gateway_->call("/v3/lease/keepalive", req, res, resend::safe))
    return f;
  if (res.has_error()) {
    auto f = stream_fault(res.error(), "etcd lease keepalive");
    if (f.code == errc::not_found)
      return std::chrono::seconds{0};
    return f;
  }
  if (!res.has_result())
    return make_fault(errc::internal, "etcd lease keepalive: an answer without a result");
  return std::chrono::seconds{res.result().ttl()};
}

fault etcd_client::revoke_lease(int64_t lease) {
  pbe::LeaseRevokeRequest req;
  req.set_id(lease);
  pbe::LeaseRevokeResponse res;
  auto f = gateway_->call("/v3/lease/revoke", req, res, resend::safe);
  if (f.code == errc::not_found)
    return {};
  return f;
}

// -- keys ---------------------------------------------------------------------------------------

result<int64_t> etcd_client::put(std::string_view key, std::string_view value, int64_t lease) {
  pbe::PutRequest req;
  req.set_key(std::string{key});
  req.set_value(std::string{value});
  req.set_lease(lease);
  pbe::PutResponse res;
  // Writing the same value twice leaves the same key.
  if (auto f = gateway_->call("/v3/kv/put", req, res, resend::safe))
    return f;
  return res.header().revision();
}

result<std::optional<etcd_kv>> etcd_client::get(std::string_view key) {
  pbe::RangeRequest req;
  req.set_key(std::string{key});
  pbe::RangeResponse res;
  if (auto f = gateway_->call("/v3/kv/range", req, res, resend::safe))
    return f;
  if (res.kvs_size() == 0)
    return std::optional<etcd_kv>{};
  return std::optional<etcd_kv>{from_pb(res.kvs(0))};
}

result<etcd_range> etcd_client::range_prefix(std::string_view prefix) {
  pbe::RangeRequest req;
  req.set_key(std::string{prefix});
  req.set_range_end(prefix_range_end(prefix));
  pbe::RangeResponse res;
  if (auto f = gateway_->call("/v3/kv/range", req, res, resend::safe))
    return f;
  etcd_range out;
  out.revision = res.header().revision();
  out.kvs.reserve(res.kvs_size());
  for (auto& kv : res.kvs())
    out.kvs.push_back(from_pb(kv));
  return out;
}

result<int64_t> etcd_client::remove(std::string_view key) {
  pbe::DeleteRangeRequest req;
  req.set_key(std::string{key});
  pbe::DeleteRangeResponse res;
  if (auto f = gateway_->call("/v3/kv/deleterange", req, res, resend::safe))
    return f;
  return res.deleted();
}

// -- compare-and-set ----------------------------------------------------------------------------

result<etcd_cas_outcome> etcd_client::create_if_absent(std::string_view key,
                                                       std::string_view value, int64_t lease) {
  return compare_and_put(key, value, lease, 0);
}

result<etcd_cas_outcome> etcd_client::update_if_revision(std::string_view key,
                                                         std::string_view value,
                                                         int64_t mod_revision, int64_t lease) {
  return compare_and_put(key, value, lease, mod_revision);
}

// `mod_revision` 0 asks for the key to be absent (its create_revision is 0 then).
result<etcd_cas_outcome> etcd_client::compare_and_put(std::string_view key,
                                                      std::string_view value, int64_t lease,
                                                      int64_t mod_revision) {
  pbe::TxnRequest req;
  auto& cmp = *req.add_compare();
  cmp.set_key(std::string{key});
  cmp.set_result(pbe::Compare::EQUAL);
  if (mod_revision == 0) {
    cmp.set_target(pbe::Compare::CREATE);
    cmp.set_create_revision(0);
  } else {
    cmp.set_target(pbe::Compare::MOD);
    cmp.set_mod_revision(mod_revision);
  }
  auto& put = *req.add_success()->mutable_request_put();
  put.set_key(std::string{key});
  put.set_value(std::string{value});
  put.set_lease(lease);
  // The loser learns in the same round trip what won.
  req.add_failure()->mutable_request_range()->set_key(std::string{key});
  pbe::TxnResponse res;
  if (auto f = gateway_->call("/v3/kv/txn", req, res, resend::unsafe))
    return f;
  etcd_cas_outcome out;
  out.succeeded = res.succeeded();
  out.revision = res.header().revision();
  if (!out.succeeded) {
    if (res.responses_size() != 1 || !res.responses(0).has_response_range())
      return make_fault(errc::internal, "etcd txn: a failed compare without the key's range");
    auto& range = res.responses(0).response_range();
    if (range.kvs_size() > 0)
      out.current = from_pb(range.kvs(0));
  }
  return out;
}

// -- watch --------------------------------------------------------------------------------------

result<etcd_watch_end> etcd_client::watch_prefix(std::string_view prefix, int64_t start_revision,
                                                 const etcd_watch_handler& on_events,
                                                 std::chrono::milliseconds duration) {
  pbe::WatchRequest req;
  auto& create = *req.mutable_create_request();
  create.set_key(std::string{prefix});
  create.set_range_end(prefix_range_end(prefix));
  create.set_start_revision(start_revision);
  etcd_watch_end end;
  end.next_revision = start_revision;
  bool canceled = false;
  fault broken;
  std::vector<etcd_event> events;
  auto on_line = [&](std::string_view line) {
    pbe::WatchStreamItem item;
    if ((broken = parse_gateway_json(line, item, "etcd watch")))
      return false;
    if (item.has_error()) {
      broken = stream_fault(item.error(), "etcd watch");
      return false;
    }
    auto& res = item.result();
    if (res.canceled()) {
      canceled = true;
      end.compact_revision = res.compact_revision();
      end.cancel_reason = res.cancel_reason();
      return false;
    }
    // "From now" means after the revision the watch was created at.
    if (res.created() && end.next_revision == 0)
      end.next_revision = res.header().revision() + 1;
    if (res.events_size() == 0)
      return true;
    events.clear();
    for (auto& e : res.events()) {
      auto kind = e.type() == pbe::Event::DELETE ? etcd_event::kind::remove
                                                   : etcd_event::kind::put;
      events.push_back({kind, from_pb(e.kv())});
    }
    end.next_revision = events.back().kv.mod_revision + 1;
    return on_events(events, res.header().revision());
  };
  auto streamed = gateway_->stream("/v3/watch", req, on_line, duration);
  if (broken)
    return broken;
  if (!streamed)
    return std::move(streamed).take_error();
  if (canceled) {
    end.why = end.compact_revision > 0 ? etcd_watch_end::reason::compacted
                                       : etcd_watch_end::reason::canceled;
    return end;
  }
  end.why = *streamed == stream_end::stopped ? etcd_watch_end::reason::stopped
                                             : etcd_watch_end::reason::expired;
  return end;
}

} // namespace parley::cluster
