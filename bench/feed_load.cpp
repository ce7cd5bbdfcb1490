// feed_load: the news feed benchmark (bench/feed.sh runs it; results in docs/benchmarks.md).
//
//   feed_load seed  --data-dir D [--users 1000000]
//       Writes a social graph straight into a node's data directory (parleyd not running):
//       1,000,000 users; 5,000 normal authors (users 0..4999) with 100-300 followers each drawn
//       from an active pool of 100,000 users (0..99999); 20 celebrities (the last 20 users),
//       one followed by every other user and 19 with 100k-1M followers (log-uniform); 1,000
//       readers (users 5000..5999) following 200 normal authors and all 20 celebrities. Edges are
//       stored both ways with exact counts; 3 posts per normal author and 30 per celebrity from
//       the last 24 hours. Follower lists of the other 994,980 users are not materialized (no
//       phase reads them).
//   feed_load run   --url http://127.0.0.1:PORT --secret S
//       activate   every user of the active pool reads their feed once (a rebuild from the
//                  store: the "returning user" path), 8 connections: reads/s, p50/p99
//       fanout     each normal author posts once, 8 connections; fan-out throughput = feed
//                  inserts (timeline inserts + inactive skips, from /metrics) / time from the
//                  first post to the last insert
//       celebrity  the 1M-follower celebrity posts 20 times: ack latency, and time until a
//                  follower's feed (chronological, limit 1) shows the post
//       read       the 1,000 readers read their feeds (limit 20), ranked and chronological,
//                  4 connections: p50/p99
//   feed_load redis --port P --inserts N
//       The seed's feed insert on a Redis server: ZADD feed:<follower> <time> <post> +
//       ZREMRANGEBYRANK feed:<follower> 0 -501, pipelined 16 inserts per round trip over 4
//       connections, followers spread over 100,000 feeds: inserts/s.
// Every phase prints progress on stderr and a `RESULT <phase> key=value ...` line on stdout.
#include "actors/feed/feed_context.hpp"
#include "common/time_ordered_id.hpp"
#include "net/jwt.hpp"
#include "proto/parley.pb.h"
#include "storage/engine.hpp"
#include "storage/feed_store.hpp"
#include "net/client/http_client.hpp"
#include "tools/json_scan.hpp"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <mutex>
#include <random>
#include <string>
#include <thread>
#include <unordered_set>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace parley;
using steady = std::chrono::steady_clock;

namespace {

constexpr uint32_t normal_authors = 5000;
constexpr uint32_t active_pool = 100000;
constexpr uint32_t first_reader = 5000;
constexpr uint32_t readers = 1000;
constexpr uint32_t celebrities = 20;
constexpr uint32_t reader_follows = 200;

std::string user_id(uint32_t i) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "u%07u", i);
  return buf;
}

int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
           std::chrono::system_clock::now().time_since_epoch())
    .count();
}

double seconds_since(steady::time_point t) {
  return std::chrono::duration<double>(steady::now() - t).count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  return v[std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())))];
}

// -- seed -----------------------------------------------------------------------------------------

class seeder {
public:
  seeder(storage::engine& db, uint32_t users) : db_(db), store_(db), users_(users),
    followers_(users, 0), following_(users, 0) {}

  void run() {
    std::mt19937_64 rng{42};
    auto started = steady::now();
    // Normal authors: 100-300 followers from the active pool.
    for (uint32_t a = 0; a < normal_authors; ++a) {
      auto k = std::uniform_int_distribution<uint32_t>{100, 300}(rng);
      std::unordered_set<uint32_t> chosen;
      while (chosen.size() < k) {
        auto f = std::uniform_int_distribution<uint32_t>{0, active_pool - 1}(rng);
        if (f != a)
          chosen.insert(f);
      }
      for (auto f : chosen)
        edge(f, a);
      if (a % 1000 == 999)
        progress("normal authors", a + 1, normal_authors, started);
    }
    // Readers: 200 normal authors each (skipping those they follow already).
    for (uint32_t r = first_reader; r < first_reader + readers; ++r) {
      std::unordered_set<uint32_t> chosen;
      while (chosen.size() < reader_follows)
        chosen.insert(std::uniform_int_distribution<uint32_t>{0, normal_authors - 1}(rng));
      for (auto a : chosen)
        if (!follows(r, a) && !pending_.count(key(r, a)))
          edge(r, a);
    }
    flush();
    progress("readers", readers, readers, started);
    // Celebrities: the last one is followed by everybody, the others by 100k-1M users (a
    // contiguous run of ids from a random start, plus every reader).
    for (uint32_t c = 0; c < celebrities; ++c) {
      uint32_t celeb = users_ - celebrities + c;
      uint64_t count = c == celebrities - 1
                         ? users_ - 1
                         : static_cast<uint64_t>(
                             std::exp(std::uniform_real_distribution<double>{
                               std::log(1e5), std::log(1e6)}(rng)));
      auto start = std::uniform_int_distribution<uint32_t>{0, users_ - 1}(rng);
      auto in_run = [&](uint32_t u) { return (u + users_ - start) % users_ < count; };
      for (uint64_t i = 0; i < count; ++i) {
        auto f = static_cast<uint32_t>((start + i) % users_);
        if (f != celeb)
          edge(f, celeb);
        if (i % 200000 == 199999)
          progress(("celebrity " + std::to_string(c)).c_str(), i + 1, count, started);
      }
      for (uint32_t r = first_reader; r < first_reader + readers; ++r)
        if (!in_run(r))
          edge(r, celeb);
    }
    // Posts.
    std::uniform_int_distribution<int64_t> age{60'000, 86'400'000};
    auto now = unix_ms();
    for (uint32_t a = 0; a < normal_authors; ++a)
      for (int i = 0; i < 3; ++i)
        post(a, now - age(rng), true);
    for (uint32_t c = 0; c < celebrities; ++c) {
      auto celeb = users_ - celebrities + c;
      for (int i = 0; i < 30; ++i)
        post(celeb, now - age(rng), false);
      store_.mark_pulled(ws_, user_id(celeb));
    }
    flush();
    // User records with exact counts.
    for (uint32_t u = 0; u < users_; ++u) {
      pb::StoredUser user;
      user.set_created_ms(now - 86'400'000);
      user.set_followers(followers_[u]);
      user.set_following(following_[u]);
      store_.put_user(ws_, user_id(u), user);
      if (ws_.ops().size() >= 100000)
        flush();
      if (u % 250000 == 249999)
        progress("users", u + 1, users_, started);
    }
    flush();
    std::printf("RESULT seed users=%u edges=%llu posts=%llu seconds=%.1f\n", users_,
                static_cast<unsigned long long>(edges_), static_cast<unsigned long long>(posts_),
                seconds_since(started));
  }

private:
  static uint64_t key(uint32_t from, uint32_t to) { return (uint64_t{from} << 32) | to; }

  void edge(uint32_t follower, uint32_t followee) {
    store_.put_follow(ws_, user_id(follower), user_id(followee), 1);
    ++followers_[followee];
    ++following_[follower];
    ++edges_;
    if (followee < normal_authors)
      pending_.insert(key(follower, followee));
    if (ws_.ops().size() >= 200000)
      flush();
  }

  void post(uint32_t author, int64_t created, bool fanned) {
    // A post id lands in its author's post shard (actors/feed/feed_context.hpp).
    constexpr auto shards = feed::post_shard_count;
    auto id = new_time_ordered_id(created, id_shard(user_id(author), shards), shards);
    pb::StoredPost p;
    p.set_author_id(user_id(author));
    p.set_text("post " + std::to_string(posts_) + " by " + user_id(author));
    p.set_created_ms(created);
    p.set_fanned_out(fanned);
    store_.put_post(ws_, id, p);
    auto& n = author_posts_[user_id(author)];
    ++n;
    pb::AuthorStats stats;
    stats.set_posts(n);
    store_.put_author_stats(ws_, user_id(author), stats);
    ++posts_;
  }

  // A seed that cannot read or write its database stops: the data would not be what it says.
  [[noreturn]] static void fail(const fault& err) {
    std::fprintf(stderr, "feed_load seed: %s\n", err.message.c_str());
    std::exit(1);
  }

  bool follows(uint32_t follower, uint32_t followee) const {
    auto read = store_.follows(user_id(follower), user_id(followee));
    if (!read)
      fail(read.error());
    return *read;
  }

  void flush() {
    if (ws_.empty())
      return;
    if (auto err = db_.write({&ws_}, false))
      fail(err);
    ws_ = storage::write_set{};
  }

  static void progress(const char* what, uint64_t done, uint64_t total,
                       steady::time_point started) {
    std::fprintf(stderr, "seed: %s %llu/%llu (%.0f s)\n", what,
                 static_cast<unsigned long long>(done), static_cast<unsigned long long>(total),
                 seconds_since(started));
  }

  storage::engine& db_;
  storage::feed_store store_;
  uint32_t users_;
  std::vector<uint32_t> followers_, following_;
  std::unordered_set<uint64_t> pending_;  // reader edges to normal authors, before the flush
  std::unordered_map<std::string, uint64_t> author_posts_;
  storage::write_set ws_;
  uint64_t edges_ = 0;
  uint64_t posts_ = 0;
};

// -- run ------------------------------------------------------------------------------------------

struct target {
  net::client::http_url url;
  std::string secret;

  std::string token(const std::string& user) const {
    net::jwt_claims c;
    c.sub = user;
    c.iat = unix_ms() / 1000;
    c.exp = c.iat + 3600;
    return net::jwt_sign(c, secret);
  }
};

struct latencies {
  std::mutex mtx;
  std::vector<double> ms;
  std::atomic<uint64_t> errors{0};
  void add(const std::vector<double>& more) {
    std::lock_guard guard{mtx};
    ms.insert(ms.end(), more.begin(), more.end());
  }
};

// "label: done/total" on stderr every second until `finished`.
template <class Done>
void report_progress(const char* label, const std::atomic<bool>& finished, Done done_so_far,
                     uint64_t total) {
  auto last = steady::now();
  while (!finished) {
    std::this_thread::sleep_for(std::chrono::milliseconds{50});
    if (seconds_since(last) >= 1) {
      last = steady::now();
      std::fprintf(stderr, "%s: %llu/%llu\n", label,
                   static_cast<unsigned long long>(std::min<uint64_t>(done_so_far(), total)),
                   static_cast<unsigned long long>(total));
    }
  }
}

// Runs `count` requests from `connections` threads; `make(i)` gives user and target of request i.
template <class Make>
double drive(const target& t, size_t count, int connections, Make make, latencies& out,
             const char* label) {
  std::atomic<size_t> next{0};
  auto started = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c)
    threads.emplace_back([&] {
      net::client::http_client client{t.url, {}};
      std::vector<double> mine;
      for (size_t i; (i = next.fetch_add(1)) < count;) {
        auto [user, req] = make(i);
        client.set_token(t.token(user));
        auto res = client.request(req);
        if (!res.success()) {
          if (out.errors++ < 3)
            std::fprintf(stderr, "%s: %s\n", label, res.describe().c_str());
          continue;
        }
        mine.push_back(std::chrono::duration<double, std::milli>(res.elapsed).count());
      }
      out.add(mine);
    });
  std::atomic<bool> done{false};
  std::thread progress([&] { report_progress(label, done, [&] { return next.load(); }, count); });
  for (auto& th : threads)
    th.join();
  auto secs = seconds_since(started);
  done = true;
  progress.join();
  return secs;
}

net::client::http_request get(std::string target) {
  net::client::http_request r;
  r.method = "GET";
  r.target = std::move(target);
  return r;
}

int64_t metric(net::client::http_client& client, const std::string& name) {
  auto res = client.get("/metrics");
  auto at = res.body.find("\n" + name + " ");
  if (at == std::string::npos)
    return -1;
  return std::atoll(res.body.c_str() + at + name.size() + 2);
}

void activate(const target& t) {
  latencies lat;
  auto secs = drive(
    t, active_pool, 8,
    [](size_t i) {
      return std::pair{user_id(static_cast<uint32_t>(i)),
                       get("/api/v1/feed?mode=chronological&limit=20")};
    },
    lat, "activate");
  std::printf("activate: %u returning users read (rebuild) in %.1f s: %.0f reads/s, p50 %.2f ms, "
              "p99 %.2f ms, %llu errors\n",
              active_pool, secs, active_pool / secs, percentile(lat.ms, 0.5),
              percentile(lat.ms, 0.99), static_cast<unsigned long long>(lat.errors.load()));
  std::printf("RESULT activate reads=%u reads_per_s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%llu\n",
              active_pool, active_pool / secs, percentile(lat.ms, 0.5), percentile(lat.ms, 0.99),
              static_cast<unsigned long long>(lat.errors.load()));
}

void fanout(const target& t) {
  net::client::http_client probe{t.url, {}};
  // The work to expect: every follower of every posting author, plus the author's own feed.
  uint64_t expected = 0;
  for (uint32_t a = 0; a < normal_authors; ++a) {
    probe.set_token(t.token(user_id(a)));
    auto res = probe.get("/api/v1/users/" + user_id(a));
    expected += std::strtoull(tools::json_string(res.body, "followers").c_str(), nullptr, 10) + 1;
  }
  auto work = [&] {
    return metric(probe, "parley_feed_fanout_inserts_total")
           + metric(probe, "parley_feed_fanout_skipped_total");
  };
  auto inserts_before = metric(probe, "parley_feed_fanout_inserts_total");
  auto before = work();
  latencies lat;
  auto started = steady::now();
  std::atomic<bool> posting{true};
  std::thread poster([&] {
    auto secs = drive(
      t, normal_authors, 8,
      [](size_t i) {
        net::client::http_request r;
        r.target = "/api/v1/posts";
        r.body = R"({"text":"fan-out bench post )" + std::to_string(i) + R"("})";
        return std::pair{user_id(static_cast<uint32_t>(i)), r};
      },
      lat, "fanout posts");
    std::fprintf(stderr, "fanout: %u posts acknowledged in %.2f s\n", normal_authors, secs);
    posting = false;
  });
  double done_at = 0;
  for (;;) {
    auto w = work();
    if (w - before >= static_cast<int64_t>(expected)) {
      done_at = seconds_since(started);
      break;
    }
    if (seconds_since(started) > 300) {
      std::fprintf(stderr, "fanout: gave up after 300 s at %lld/%llu\n",
                   static_cast<long long>(w - before), static_cast<unsigned long long>(expected));
      done_at = seconds_since(started);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  }
  poster.join();
  auto inserted = metric(probe, "parley_feed_fanout_inserts_total") - inserts_before;
  auto rate = static_cast<double>(expected) / done_at;
  std::printf("fanout: %u posts, %llu feed inserts (%lld into active feeds) in %.2f s: %.0f "
              "inserts/s; post ack p50 %.2f ms p99 %.2f ms\n",
              normal_authors, static_cast<unsigned long long>(expected),
              static_cast<long long>(inserted), done_at, rate, percentile(lat.ms, 0.5),
              percentile(lat.ms, 0.99));
  std::printf("RESULT fanout posts=%u inserts=%llu seconds=%.3f inserts_per_s=%.0f "
              "post_p50_ms=%.3f post_p99_ms=%.3f errors=%llu\n",
              normal_authors, static_cast<unsigned long long>(expected), done_at, rate,
              percentile(lat.ms, 0.5), percentile(lat.ms, 0.99),
              static_cast<unsigned long long>(lat.errors.load()));
}

void celebrity(const target& t, uint32_t users) {
  auto celeb = user_id(users - 1);
  auto follower = user_id(first_reader);
  net::client::http_client author{t.url, {}};
  net::client::http_client reader{t.url, {}};
  author.set_token(t.token(celeb));
  reader.set_token(t.token(follower));
  std::vector<double> ack, visible;
  for (int i = 0; i < 20; ++i) {
    auto started = steady::now();
    auto res = author.post("/api/v1/posts", R"({"text":"celebrity bench post )"
                                              + std::to_string(i) + R"("})");
    ack.push_back(seconds_since(started) * 1000);
    auto id = tools::json_string(res.body, "post_id");
    if (res.status != 201 || id.empty()) {
      std::fprintf(stderr, "celebrity: %s\n", res.describe().c_str());
      continue;
    }
    for (;;) {
      auto feed = reader.get("/api/v1/feed?mode=chronological&limit=1");
      if (tools::json_string(feed.body, "post_id") == id)
        break;
      if (seconds_since(started) > 10) {
        std::fprintf(stderr, "celebrity: post %s not in the follower's feed after 10 s\n",
                     id.c_str());
        break;
      }
    }
    visible.push_back(seconds_since(started) * 1000);
    std::this_thread::sleep_for(std::chrono::milliseconds{100});
  }
  std::printf("celebrity: author with %u followers, 20 posts: ack p50 %.2f ms p99 %.2f ms; in a "
              "follower's feed p50 %.2f ms p99 %.2f ms\n",
              users - 1, percentile(ack, 0.5), percentile(ack, 0.99), percentile(visible, 0.5),
              percentile(visible, 0.99));
  std::printf("RESULT celebrity followers=%u ack_p50_ms=%.3f ack_p99_ms=%.3f visible_p50_ms=%.3f "
              "visible_p99_ms=%.3f\n",
              users - 1, percentile(ack, 0.5), percentile(ack, 0.99), percentile(visible, 0.5),
              percentile(visible, 0.99));
}

void reads(const target& t) {
  for (auto mode : {"ranked", "chronological"}) {
    latencies lat;
    constexpr size_t count = 10000;
    auto secs = drive(
      t, count, 4,
      [mode](size_t i) {
        return std::pair{user_id(first_reader + static_cast<uint32_t>(i % readers)),
                         get(std::string{"/api/v1/feed?limit=20&mode="} + mode)};
      },
      lat, mode);
    std::printf("read %s: %zu reads of 200 normal + 20 celebrity followees in %.1f s: %.0f/s, "
                "p50 %.2f ms p99 %.2f ms\n",
                mode, count, secs, count / secs, percentile(lat.ms, 0.5),
                percentile(lat.ms, 0.99));
    std::printf("RESULT read_%s reads=%zu reads_per_s=%.0f p50_ms=%.3f p99_ms=%.3f errors=%llu\n",
                mode, count, count / secs, percentile(lat.ms, 0.5), percentile(lat.ms, 0.99),
                static_cast<unsigned long long>(lat.errors.load()));
  }
}

// -- redis ----------------------------------------------------------------------------------------

// One command in RESP, appended without temporaries (the client must not be the bottleneck: it
// shares the two cores with redis-server).
void append_bulk(std::string& out, std::string_view s) {
  char head[24];
  auto n = std::snprintf(head, sizeof head, "$%zu\r\n", s.size());
  out.append(head, static_cast<size_t>(n));
  out.append(s);
  out.append("\r\n", 2);
}

void redis(uint16_t port, uint64_t inserts) {
  constexpr int connections = 4;
  constexpr int batch = 16;
  std::atomic<uint64_t> next{0};
  auto started = steady::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < connections; ++c)
    threads.emplace_back([&, c] {
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in addr{};
      addr.sin_family = AF_INET;
      addr.sin_port = htons(port);
      addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
        std::perror("redis connect");
        std::exit(1);
      }
      std::mt19937 rng{static_cast<uint32_t>(c)};
      std::string out, in(65536, '\0');
      char feed[32], member[32], score[32];
      for (uint64_t first; (first = next.fetch_add(batch)) < inserts;) {
        out.clear();
        auto n = std::min<uint64_t>(batch, inserts - first);
        auto now = unix_ms();
        for (uint64_t i = 0; i < n; ++i) {
          auto fl = std::snprintf(feed, sizeof feed, "feed:u%07u",
                                  static_cast<unsigned>(rng() % active_pool));
          auto ml = std::snprintf(member, sizeof member, "p%llu",
                                  static_cast<unsigned long long>(first + i));
          auto sl = std::snprintf(score, sizeof score, "%lld", static_cast<long long>(now));
          out.append("*4\r\n", 4);
          append_bulk(out, "ZADD");
          append_bulk(out, {feed, static_cast<size_t>(fl)});
          append_bulk(out, {score, static_cast<size_t>(sl)});
          append_bulk(out, {member, static_cast<size_t>(ml)});
          out.append("*4\r\n", 4);
          append_bulk(out, "ZREMRANGEBYRANK");
          append_bulk(out, {feed, static_cast<size_t>(fl)});
          append_bulk(out, "0");
          append_bulk(out, "-501");
        }
        if (::send(fd, out.data(), out.size(), 0) != static_cast<ssize_t>(out.size())) {
          std::perror("redis send");
          std::exit(1);
        }
        // Two integer replies per insert, one line each.
        uint64_t lines = 0;
        while (lines < 2 * n) {
          auto got = ::recv(fd, in.data(), in.size(), 0);
          if (got <= 0) {
            std::perror("redis recv");
            std::exit(1);
          }
          lines += static_cast<uint64_t>(std::count(in.data(), in.data() + got, '\n'));
        }
      }
      ::close(fd);
    });
  std::atomic<bool> done{false};
  std::thread progress([&] { report_progress("redis", done, [&] { return next.load(); }, inserts); });
  for (auto& th : threads)
    th.join();
  auto secs = seconds_since(started);
  done = true;
  progress.join();
  std::printf("redis: %llu feed inserts (ZADD + ZREMRANGEBYRANK, %d per pipelined batch, %d "
              "connections) in %.2f s: %.0f inserts/s\n",
              static_cast<unsigned long long>(inserts), batch, connections, secs, inserts / secs);
  std::printf("RESULT redis inserts=%llu seconds=%.3f inserts_per_s=%.0f\n",
              static_cast<unsigned long long>(inserts), secs, inserts / secs);
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"News feed benchmark (bench/feed.sh)"};
  app.require_subcommand(1);
  std::string data_dir, url_text = "http://127.0.0.1:8080", secret, phases = "all";
  uint32_t users = 1'000'000;
  uint16_t redis_port = 6379;
  uint64_t inserts = 1'000'000;
  auto* seed = app.add_subcommand("seed", "write the graph into a data directory");
  seed->add_option("--data-dir", data_dir, "parleyd's data directory")->required();
  seed->add_option("--users", users, "users in the graph")->check(CLI::Range(100000u, 10000000u));
  auto* run = app.add_subcommand("run", "the phases against a running parleyd");
  run->add_option("--url", url_text, "parleyd's base URL");
  run->add_option("--secret", secret, "auth.jwt_secret of that node")->required();
  run->add_option("--users", users, "users the graph was seeded with");
  run->add_option("--phases", phases, "comma-separated: activate,fanout,celebrity,read or all");
  auto* red = app.add_subcommand("redis", "the seed's feed insert on Redis");
  red->add_option("--port", redis_port, "redis-server port");
  red->add_option("--inserts", inserts, "feed inserts to run");
  CLI11_PARSE(app, argc, argv);

  if (*seed) {
    storage::storage_options opts;
    opts.data_dir = data_dir;
    opts.sync = storage::sync_mode::none;
    fault err;
    auto db = storage::engine::open(opts, err);
    if (!db) {
      std::fprintf(stderr, "feed_load seed: %s\n", err.message.c_str());
      return 1;
    }
    seeder{*db, users}.run();
    if (auto e = db->sync_wal()) {
      std::fprintf(stderr, "feed_load seed: %s\n", e.message.c_str());
      return 1;
    }
    return 0;
  }
  if (*red) {
    redis(redis_port, inserts);
    return 0;
  }
  target t;
  std::string error;
  if (!net::client::parse_http_url(url_text, t.url, error)) {
    std::fprintf(stderr, "feed_load: --url: %s\n", error.c_str());
    return 2;
  }
  t.secret = secret;
  auto wants = [&](const char* p) {
    return phases == "all" || ("," + phases + ",").find(std::string{","} + p + ",")
                                != std::string::npos;
  };
  if (wants("activate"))
    activate(t);
  if (wants("fanout"))
    fanout(t);
  if (wants("celebrity"))
    celebrity(t, users);
  if (wants("read"))
    reads(t);
  return 0;
}
