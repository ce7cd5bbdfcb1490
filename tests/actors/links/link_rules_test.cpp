#include "actors/links/click_aggregator.hpp"
#include "actors/links/link_cache.hpp"
#include "actors/links/link_rules.hpp"

#include <catch2/catch.hpp>

#include <set>

using namespace parley;
using namespace parley::links;

TEST_CASE("long URLs: absolute http(s) with a host, printable ASCII, at most 2048 bytes") {
  for (auto ok : {"https://example.com", "http://example.com/a?b=1#c", "HTTPS://Example.COM:8443/x",
                  "http://127.0.0.1:8080/", "http://[::1]:80/path", "https://a-b.example/%E2%9C%93"})
    CHECK_FALSE(check_long_url(ok));
  struct bad_case {
    std::string url;
    std::string says;
  };
  std::vector<bad_case> bad = {
    {"", "required"},
    {"example.com/path", "absolute"},
    {"javascript:alert(1)", "absolute"},
    {"ftp://example.com/file", "http or https"},
    {"https:///path-only", "no host"},
    {"https://exa mple.com", "spaces"},
    {"https://example.com/\r\nSet-Cookie: a=b", "control"},
    {"https://example.com/\x7f", "control"},
    {"https://example.com/caf\xc3\xa9", "ASCII"},
    {"https://example.com/\xff\xfe", "ASCII"},
    {"https://user:pw@bank.example/", "invalid host"},
    {"https://exa_mple.com/", "invalid host"},
    {"https://example.com:99999999/", "invalid host"},
    {"https://" + std::string(2100, 'a') + ".com", "2048"},
  };
  for (auto& b : bad) {
    auto err = check_long_url(b.url);
    INFO(b.url << " -> " << err.message);
    CHECK(err.code == errc::bad_request);
    CHECK(err.message.find(b.says) != std::string::npos);
  }
}

TEST_CASE("aliases: [A-Za-z0-9_-]{3,32} and never a reserved first segment") {
  std::set<std::string> reserved{"api", "healthz", "static"};
  CHECK_FALSE(check_alias("my-link_2", reserved));
  CHECK(check_alias("ab", reserved));
  CHECK(check_alias(std::string(33, 'a'), reserved));
  CHECK(check_alias("has space", reserved));
  CHECK(check_alias("dot.ted", reserved));
  CHECK(check_alias("slash/x", reserved));
  CHECK(check_alias("api", reserved).message.find("reserved") != std::string::npos);
  CHECK(check_alias("HealthZ", reserved));  // case-insensitive
}

TEST_CASE("generated keys are 7 Base62 characters and do not repeat") {
  std::set<std::string> seen;
  for (int i = 0; i < 10000; ++i) {
    auto k = random_key();
    REQUIRE(k.size() == 7);
    for (char c : k)
      REQUIRE(std::isalnum(static_cast<unsigned char>(c)));
    seen.insert(k);
  }
  CHECK(seen.size() == 10000);
  // Not sequential: consecutive keys differ in most positions.
  auto a = random_key(), b = random_key();
  int same = 0;
  for (size_t i = 0; i < 7; ++i)
    same += a[i] == b[i];
  CHECK(same < 5);
}

TEST_CASE("user agents map to device classes") {
  CHECK(classify_user_agent("Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120")
        == device_class::desktop);
  CHECK(classify_user_agent("Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15")
        == device_class::desktop);
  CHECK(classify_user_agent("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Mobile/15E148")
        == device_class::mobile);
  CHECK(classify_user_agent("Mozilla/5.0 (Linux; Android 14; Pixel 8) Mobile Safari/537.36")
        == device_class::mobile);
  CHECK(classify_user_agent("Googlebot/2.1 (+http://www.google.com/bot.html)") == device_class::bot);
  CHECK(classify_user_agent("curl/7.88.1") == device_class::bot);
  CHECK(classify_user_agent("") == device_class::other);
  CHECK(classify_user_agent("SomeTV/1.0") == device_class::other);
}

TEST_CASE("referrer hosts are lower-cased hosts without port or credentials") {
  CHECK(referrer_host("https://News.Example.com/item?id=1") == "news.example.com");
  CHECK(referrer_host("http://u:p@host.example:8080/x") == "host.example");
  CHECK(referrer_host("") == "");
  CHECK(referrer_host("not a url") == "");
  CHECK(referrer_host("https://") == "");
}

TEST_CASE("clicks fold into counters, keeping the busiest referrers") {
  pb::StoredLinkStats stats;
  std::vector<click> clicks;
  for (int i = 0; i < 150; ++i)
    clicks.push_back({"k", "site" + std::to_string(i) + ".example", 1000 + i,
                      "Mozilla/5.0 (X11; Linux x86_64) Firefox/120.0"});
  for (int i = 0; i < 5; ++i)
    clicks.push_back({"k", "", 5000, "Mozilla/5.0 (Linux; Android 14) Mobile Safari/537.36"});
  std::vector<const click*> ptrs;
  for (auto& c : clicks)
    ptrs.push_back(&c);
  fold_clicks(stats, ptrs);
  CHECK(stats.clicks() == 155);
  CHECK(stats.last_accessed_ms() == 5000);
  CHECK(stats.devices().desktop() == 150);
  CHECK(stats.devices().mobile() == 5);
  CHECK(stats.referrers().size() == max_referrers_kept);
  CHECK(stats.referrers().at("direct") == 5);
}

TEST_CASE("the link cache evicts the least recently used and honours invalidation") {
  link_cache cache{4, 1};
  for (int i = 0; i < 4; ++i)
    cache.put("k" + std::to_string(i), cached_link{"https://e.example/" + std::to_string(i)},
              cache.epoch("k0"));
  REQUIRE(cache.get("k0"));  // k0 is now the most recent
  cache.put("k4", cached_link{"https://e.example/4"}, cache.epoch("k4"));
  CHECK(cache.get("k0"));
  CHECK_FALSE(cache.get("k1"));
  CHECK(cache.size() == 4);
  // A load that started before an erase does not put its stale answer back.
  auto epoch = cache.epoch("k9");
  cache.erase("k9");
  cache.put("k9", cached_link{"https://stale.example/"}, epoch);
  CHECK_FALSE(cache.get("k9"));
}

TEST_CASE("the click queue drops instead of growing past its bound") {
  click_queue q{3};
  for (int i = 0; i < 5; ++i)
    q.push({"k", "", i, ""});
  auto taken = q.take();
  CHECK(taken.size() == 3);
  CHECK(q.take().empty());
  CHECK(q.push({"k", "", 9, ""}));
}
