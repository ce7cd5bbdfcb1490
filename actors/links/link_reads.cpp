#include "actors/links/link_reads.hpp"

#include <google/protobuf/util/time_util.h>

#include <algorithm>

namespace parley::links {

namespace {

using google::protobuf::util::TimeUtil;

constexpr size_t top_referrers = 10;

// The stored link of `key` if it is live at `now_ms`, else the fault a reader gets.
fault live_link(const links_context& ctx, const std::string& key, int64_t now_ms,
                pb::StoredLink& out) {
  auto read = ctx.store->get(key);
  if (!read)
    return read.error();
  auto& link = *read;
  if (!link || link->state() == pb::StoredLink::DELETED)
    return make_fault(errc::not_found, "no link " + key);
  if (link->state() == pb::StoredLink::EXPIRED
      || (link->expires_at_ms() > 0 && link->expires_at_ms() <= now_ms))
    return make_fault(errc::gone, "link " + key + " has expired");
  out = std::move(*link);
  return {};
}

} // namespace

cached_link to_cached(const pb::StoredLink& link) {
  cached_link c;
  c.long_url = link.long_url();
  c.redirect = static_cast<uint16_t>(link.redirect() == 301 ? 301 : 302);
  c.expires_at_ms = link.expires_at_ms();
  c.gone = link.state() != pb::StoredLink::LIVE;
  c.expired = link.state() == pb::StoredLink::EXPIRED;
  return c;
}

resolution resolve(cached_link link, int64_t now_ms) {
  resolution r;
  if (link.gone) {
    r.what = link.expired ? resolution::expired : resolution::not_found;
    return r;
  }
  if (link.expires_at_ms > 0 && link.expires_at_ms <= now_ms) {
    r.what = resolution::expired;
    return r;
  }
  r.what = resolution::found;
  r.long_url = std::move(link.long_url);
  r.status = link.redirect;
  return r;
}

fault lookup(const links_context& ctx, const std::string& key, pb::LinkLookup& out) {
  auto link = ctx.store->get(key);
  if (!link)
    return link.error();
  out.set_found(link->has_value());
  if (*link)
    *out.mutable_link() = std::move(**link);
  return {};
}

pb::Link to_public(const std::string& key, const pb::StoredLink& link,
                   const std::string& short_base) {
  pb::Link out;
  out.set_key(key);
  out.set_short_url(short_base + "/" + key);
  out.set_long_url(link.long_url());
  *out.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(link.created_at_ms());
  if (link.expires_at_ms() > 0)
    *out.mutable_expires_at() = TimeUtil::MillisecondsToTimestamp(link.expires_at_ms());
  out.set_redirect(link.redirect());
  out.set_owner_id(link.owner_id());
  return out;
}

fault describe(const links_context& ctx, const std::string& key, int64_t now_ms,
               pb::LinkRecord& out) {
  if (auto err = live_link(ctx, key, now_ms, *out.mutable_link()))
    return err;
  out.set_key(key);
  return {};
}

fault link_stats(const links_context& ctx, const std::string& key, int64_t now_ms,
                 pb::LinkStats& out) {
  pb::StoredLink link;
  if (auto err = live_link(ctx, key, now_ms, link))
    return err;
  auto read = ctx.store->get_stats(key);
  if (!read)
    return read.error();
  auto stats = std::move(*read).value_or(pb::StoredLinkStats{});  // never clicked
  out.set_key(key);
  out.set_clicks(stats.clicks());
  *out.mutable_created_at() = TimeUtil::MillisecondsToTimestamp(link.created_at_ms());
  if (stats.last_accessed_ms() > 0)
    *out.mutable_last_accessed() = TimeUtil::MillisecondsToTimestamp(stats.last_accessed_ms());
  std::vector<std::pair<std::string, int64_t>> refs{stats.referrers().begin(),
                                                    stats.referrers().end()};
  std::sort(refs.begin(), refs.end(), [](auto& a, auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  refs.resize(std::min(refs.size(), top_referrers));
  for (auto& [host, clicks] : refs) {
    auto* r = out.add_referrers();
    r->set_referrer(host);
    r->set_clicks(clicks);
  }
  *out.mutable_devices() = stats.devices();
  return {};
}

} // namespace parley::links
