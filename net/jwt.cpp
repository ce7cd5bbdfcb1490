#include "net/jwt.hpp"

#include "common/json_depth.hpp"
#include "common/json_text.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace parley::net {

namespace {

constexpr const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr const char* hs256_header = R"({"alg":"HS256","typ":"JWT"})";


fault unauthorized(std::string why) {
  return make_fault(errc::unauthorized, std::move(why));
}

using claim_map = google::protobuf::Map<std::string, google::protobuf::Value>;

// A NumericDate claim (RFC 7519 section 2): a JSON number of seconds, whole seconds kept.
fault numeric_date(const claim_map& fields, const char* name, bool required, int64_t& out) {
  auto it = fields.find(name);
  if (it == fields.end() || it->second.kind_case() == google::protobuf::Value::kNullValue) {
    if (required)
      return unauthorized(std::string{"token has no "} + name + " claim");
    return {};
  }
  auto v = it->second.kind_case() == google::protobuf::Value::kNumberValue
             ? it->second.number_value()
             : -1.0;
  // Up to year 9999; a string, a negative or absurd number is not a date.
  if (!(v >= 0 && v < 253402300800.0))
    return unauthorized(std::string{"token claim "} + name + " is not a numeric date");
  out = static_cast<int64_t>(v);
  return {};
}

fault string_claim(const claim_map& fields, const char* name, std::string& out) {
  auto it = fields.find(name);
  if (it == fields.end())
    return {};
  if (it->second.kind_case() != google::protobuf::Value::kStringValue)
    return unauthorized(std::string{"token claim "} + name + " is not a string");
  out = it->second.string_value();
  return {};
}

} // namespace

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string{reinterpret_cast<char*>(mac), len};
}

std::string base64url_encode(std::string_view in) {
  std::string out;
  out.reserve((in.size() * 4 + 2) / 3);
  uint32_t buf = 0;
  int bits = 0;
  for (unsigned char c : in) {
    buf = (buf << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out.push_back(alphabet[(buf >> bits) & 0x3F]);
    }
  }
  if (bits > 0)
    out.push_back(alphabet[(buf << (6 - bits)) & 0x3F]);
  return out;
}

bool base64url_decode(std::string_view in, std::string& out) {
  out.clear();
  uint32_t buf = 0;
  int bits = 0;
  for (char c : in) {
    int v;
    if (c >= 'A' && c <= 'Z')
      v = c - 'A';
    else if (c >= 'a' && c <= 'z')
      v = c - 'a' + 26;
    else if (c >= '0' && c <= '9')
      v = c - '0' + 52;
    else if (c == '-')
      v = 62;
    else if (c == '_')
      v = 63;
    else
      return false;
    buf = (buf << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((buf >> bits) & 0xFF));
    }
  }
  // A lone trailing character carries fewer than 8 bits: not valid base64. Leftover bits must
  // be zero so that every byte string has exactly one spelling.
  return bits < 6 && (buf & ((1u << bits) - 1)) == 0;
}

std::string jwt_sign(const jwt_claims& claims, std::string_view secret) {
  // Written by hand: RFC 7519 wants numeric exp/iat, protobuf JSON would quote 64-bit ints.
  std::string payload = "{\"sub\":" + json_quote(claims.sub);
  if (claims.exp != 0)
    payload += ",\"exp\":" + std::to_string(claims.exp);
  if (claims.nbf != 0)
    payload += ",\"nbf\":" + std::to_string(claims.nbf);
  if (claims.iat != 0)
    payload += ",\"iat\":" + std::to_string(claims.iat);
  if (!claims.role.empty())
    payload += ",\"role\":" + json_quote(claims.role);
  if (!claims.tier.empty())
    payload += ",\"tier\":" + json_quote(claims.tier);
  payload += "}";
  auto signing_input = base64url_encode(hs256_header) + "." + base64url_encode(payload);
  return signing_input + "." + base64url_encode(hmac_sha256(secret, signing_input));
}

fault jwt_verify(std::string_view token, std::string_view secret, int64_t now_unix,
                 int64_t leeway_sec, jwt_claims& out) {
  auto dot1 = token.find('.');
  auto dot2 = dot1 == std::string_view::npos ? dot1 : token.find('.', dot1 + 1);
  if (dot2 == std::string_view::npos || token.find('.', dot2 + 1) != std::string_view::npos)
    return unauthorized("malformed token");
  std::string header, payload, signature;
  if (!base64url_decode(token.substr(0, dot1), header)
      || !base64url_decode(token.substr(dot1 + 1, dot2 - dot1 - 1), payload)
      || !base64url_decode(token.substr(dot2 + 1), signature))
    return unauthorized("malformed token encoding");
  // Only HS256: accepting the token's own "alg" (e.g. "none") is the classic JWT hole.
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  pb::JwtHeader head;
  if (!json_depth_within(header)
      || !google::protobuf::util::JsonStringToMessage(header, &head, opts).ok())
    return unauthorized("malformed token header");
  if (head.alg() != "HS256")
    return unauthorized("unsupported token algorithm");
  auto expected = hmac_sha256(secret, token.substr(0, dot2));
  if (signature.size() != expected.size()
      || CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return unauthorized("bad token signature");
  // Claims as a Struct, not a typed message: RFC 7519 dates are JSON numbers, and a typed int64
  // field would also take "exp":"9999999999" as a string.
  if (!json_depth_within(payload))
    return unauthorized("malformed token claims");
  google::protobuf::Struct claims;
  if (!google::protobuf::util::JsonStringToMessage(payload, &claims, opts).ok())
    return unauthorized("malformed token claims");
  auto& fields = claims.fields();
  jwt_claims parsed;
  if (auto err = numeric_date(fields, "exp", true, parsed.exp))
    return err;
  if (auto err = numeric_date(fields, "nbf", false, parsed.nbf))
    return err;
  if (auto err = numeric_date(fields, "iat", false, parsed.iat))
    return err;
  if (auto err = string_claim(fields, "sub", parsed.sub))
    return err;
  if (auto err = string_claim(fields, "role", parsed.role))
    return err;
  if (auto err = string_claim(fields, "tier", parsed.tier))
    return err;
  if (parsed.exp + leeway_sec <= now_unix)
    return unauthorized("token expired");
  if (parsed.nbf != 0 && parsed.nbf - leeway_sec > now_unix)
    return unauthorized("token not valid yet (nbf)");
  if (!valid_user_id(parsed.sub))
    return unauthorized("token sub is not a valid user id");
  out = std::move(parsed);
  return {};
}

} // namespace parley::net
