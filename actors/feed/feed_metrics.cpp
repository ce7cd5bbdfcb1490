#include "actors/feed/feed_metrics.hpp"

namespace parley::feed {

feed_metrics& instruments() {
  static feed_metrics m = [] {
    auto& reg = metrics::global();
    return feed_metrics{
      reg.get_counter("feed_posts_created_total", "Posts created"),
      reg.get_counter("feed_posts_pulled_total",
                      "Posts of authors at or above the celebrity threshold (merged at read time)"),
      reg.get_counter("feed_fanout_inserts_total", "Post ids inserted into active followers' feeds"),
      reg.get_counter("feed_fanout_skipped_total",
                      "Followers skipped by fan-out because they are not active"),
      reg.get_counter("feed_live_items_total", "feed_item frames pushed to subscribed connections"),
      reg.get_counter("feed_rebuilds_total", "Feeds rebuilt from the store for returning users"),
      reg.get_counter("feed_reads_total", "Feed pages served", "mode=\"ranked\""),
      reg.get_counter("feed_reads_total", "Feed pages served", "mode=\"chronological\""),
      reg.get_histogram("feed_read_seconds", "Feed page latency inside the feed actor",
                        metrics::latency_buckets()),
      reg.get_histogram("feed_fanout_seconds", "From a post's ack to its last follower's feed",
                        metrics::latency_buckets()),
    };
  }();
  return m;
}

} // namespace parley::feed
