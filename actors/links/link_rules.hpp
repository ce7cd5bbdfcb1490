// The pure rules of the URL shortener: what a valid long URL and alias are, how keys are drawn,
// and how a click is classified (device class from User-Agent, referrer host). No state.
#pragma once

#include "common/errc.hpp"

#include <set>
#include <string>
#include <string_view>

namespace parley::links {

constexpr size_t max_long_url_bytes = 2048;
constexpr size_t generated_key_length = 7;

// Absolute http(s) URL with a host, at most 2048 bytes, printable ASCII only (no spaces, no
// control characters such as CR/LF that could split a Location header; non-ASCII must be
// percent-encoded). `bad_request` naming the problem otherwise.
fault check_long_url(std::string_view url);

// [A-Za-z0-9_-]{3,32} and not a reserved first path segment (compared case-insensitively).
fault check_alias(std::string_view alias, const std::set<std::string>& reserved);

// True for strings that could be a key (generated or alias): the redirect path's cheap filter.
bool plausible_key(std::string_view key);

// A random key of 7 Base62 characters from the OS CSPRNG (OpenSSL RAND_bytes), drawn without
// modulo bias.
std::string random_key();

enum class device_class : uint8_t { desktop, mobile, bot, other };

device_class classify_user_agent(std::string_view user_agent);

// The host of a Referer header in lower case ("" when absent or unparsable: a direct visit).
std::string referrer_host(std::string_view referer);

} // namespace parley::links
