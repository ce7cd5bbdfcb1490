// The news feed's instruments, shared by its actors (docs/feed.md, Metrics).
#pragma once

#include "common/metrics.hpp"

namespace parley::feed {

struct feed_metrics {
  metrics::counter& posts_created;
  metrics::counter& posts_pulled;         // created at or above the celebrity threshold
  metrics::counter& fanout_inserts;       // post ids put into active followers' timelines
  metrics::counter& fanout_inactive;      // followers skipped: no active timeline
  metrics::counter& live_items;           // feed_item frames pushed to subscribers
  metrics::counter& rebuilds;             // timelines rebuilt from the store on return
  metrics::counter& reads_ranked;
  metrics::counter& reads_chronological;
  metrics::histogram& read_seconds;       // feed actor: one page, from request to answer
  metrics::histogram& fanout_seconds;     // fan-out worker: a post, from ack to last follower
};

feed_metrics& instruments();

} // namespace parley::feed
