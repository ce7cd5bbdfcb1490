#include "net/jwt.hpp"

#include "common/json_text.hpp"
#include "proto/parley.pb.h"

#include <google/protobuf/util/json_util.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

namespace parley::net {

namespace {

constexpr const char* alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
constexpr const char* hs256_header = R"({"alg":"HS256","typ":"JWT"})";

std::string hmac_sha256(std::string_view key, std::string_view data) {
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), mac, &len);
  return std::string{reinterpret_cast<char*>(mac), len};
}

fault unauthorized(std::string why) {
  return make_fault(errc::unauthorized, std::move(why));
}

} // namespace

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
  std::string payload = "{\"sub\":" + json_quote(claims.sub)
                        + ",\"exp\":" + std::to_string(claims.exp);
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
                 jwt_claims& out) {
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
  if (!google::protobuf::util::JsonStringToMessage(header, &head, opts).ok())
    return unauthorized("malformed token header");
  if (head.alg() != "HS256")
    return unauthorized("unsupported token algorithm");
  auto expected = hmac_sha256(secret, token.substr(0, dot2));
  if (signature.size() != expected.size()
      || CRYPTO_memcmp(signature.data(), expected.data(), expected.size()) != 0)
    return unauthorized("bad token signature");
  pb::JwtClaims msg;
  if (!google::protobuf::util::JsonStringToMessage(payload, &msg, opts).ok())
    return unauthorized("malformed token claims");
  if (msg.exp() == 0)
    return unauthorized("token has no exp claim");
  if (msg.exp() <= now_unix)
    return unauthorized("token expired");
  if (!valid_user_id(msg.sub()))
    return unauthorized("token sub is not a valid user id");
  out.sub = msg.sub();
  out.exp = msg.exp();
  out.iat = msg.iat();
  out.role = msg.role();
  out.tier = msg.tier();
  return {};
}

} // namespace parley::net
