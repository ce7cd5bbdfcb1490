#include "net/jwt.hpp"

#include <catch2/catch.hpp>

using namespace parley;
using namespace parley::net;

namespace {

const std::string secret = "0123456789abcdef-test-secret";
constexpr int64_t now = 1'800'000'000;

jwt_claims claims_for(const std::string& sub, int64_t exp = now + 60) {
  jwt_claims c;
  c.sub = sub;
  c.exp = exp;
  c.iat = now;
  return c;
}

} // namespace

TEST_CASE("a signed token verifies and yields its claims") {
  auto c = claims_for("alice");
  c.role = "admin";
  c.tier = "pro";
  jwt_claims out;
  REQUIRE_FALSE(jwt_verify(jwt_sign(c, secret), secret, now, 0, out));
  CHECK(out.sub == "alice");
  CHECK(out.exp == now + 60);
  CHECK(out.role == "admin");
  CHECK(out.tier == "pro");
}

TEST_CASE("the payload carries exp as a JSON number (RFC 7519)") {
  auto token = jwt_sign(claims_for("bob"), secret);
  auto first = token.find('.');
  std::string payload;
  REQUIRE(base64url_decode(token.substr(first + 1, token.find('.', first + 1) - first - 1),
                           payload));
  CHECK(payload.find("\"exp\":" + std::to_string(now + 60)) != std::string::npos);
}

TEST_CASE("a wrong secret, a tampered payload or a truncated token is refused") {
  auto token = jwt_sign(claims_for("alice"), secret);
  jwt_claims out;
  CHECK(jwt_verify(token, "another-secret-0123456789", now, 0, out).code == errc::unauthorized);

  auto forged = jwt_sign(claims_for("mallory"), secret);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto fdot1 = forged.find('.');
  auto fdot2 = forged.find('.', fdot1 + 1);
  auto spliced = token.substr(0, dot1 + 1) + forged.substr(fdot1 + 1, fdot2 - fdot1 - 1)
                 + token.substr(dot2);
  CHECK(jwt_verify(spliced, secret, now, 0, out).message == "bad token signature");

  CHECK(jwt_verify(token.substr(0, dot2), secret, now, 0, out).code == errc::unauthorized);
  CHECK(jwt_verify("", secret, now, 0, out).code == errc::unauthorized);
  CHECK(jwt_verify("a.b.c.d", secret, now, 0, out).code == errc::unauthorized);
  CHECK(jwt_verify("!!!.???.***", secret, now, 0, out).code == errc::unauthorized);
}

TEST_CASE("an expired token or one without exp is refused") {
  jwt_claims out;
  auto expired = jwt_sign(claims_for("alice", now - 1), secret);
  CHECK(jwt_verify(expired, secret, now, 0, out).message == "token expired");
  auto no_exp = jwt_sign(claims_for("alice", 0), secret);
  CHECK(jwt_verify(no_exp, secret, now, 0, out).message == "token has no exp claim");
}

TEST_CASE("exp and nbf are numeric dates, enforced with the configured leeway") {
  jwt_claims out;
  auto c = claims_for("alice", now - 10);
  CHECK(jwt_verify(jwt_sign(c, secret), secret, now, 0, out).message == "token expired");
  CHECK_FALSE(jwt_verify(jwt_sign(c, secret), secret, now, 30, out));  // within the leeway
  CHECK(jwt_verify(jwt_sign(c, secret), secret, now + 30, 30, out).message == "token expired");
  c = claims_for("alice");
  c.nbf = now + 60;
  CHECK(jwt_verify(jwt_sign(c, secret), secret, now, 30, out).message
        == "token not valid yet (nbf)");
  CHECK_FALSE(jwt_verify(jwt_sign(c, secret), secret, now + 31, 30, out));
  CHECK(out.nbf == now + 60);
}

TEST_CASE("a date claim written as a string or other non-number is refused") {
  jwt_claims out;
  for (auto payload : {R"({"sub":"alice","exp":"1900000000"})",
                       R"({"sub":"alice","exp":1900000000,"nbf":"1"})",
                       R"({"sub":"alice","exp":true})", R"({"sub":"alice","exp":-5})",
                       R"({"sub":"alice","exp":1e300})", R"({"sub":7,"exp":1900000000})",
                       R"({"sub":"alice","exp":1900000000,"role":["admin"]})"}) {
    INFO(payload);
    auto header = base64url_encode(R"({"alg":"HS256","typ":"JWT"})");
    auto input = header + "." + base64url_encode(payload);
    auto token = input + "." + base64url_encode(hmac_sha256(secret, input));
    auto err = jwt_verify(token, secret, now, 0, out);
    CHECK(err.code == errc::unauthorized);
    CHECK(err.message.find("token") == 0);
  }
  // A fractional date is a date (RFC 7519): whole seconds are kept.
  auto input = base64url_encode(R"({"alg":"HS256","typ":"JWT"})") + "."
               + base64url_encode(R"({"sub":"alice","exp":1900000000.5})");
  CHECK_FALSE(jwt_verify(input + "." + base64url_encode(hmac_sha256(secret, input)), secret,
                         now, 0, out));
  CHECK(out.exp == 1900000000);
}

TEST_CASE("alg none and other algorithms are refused even with a valid-looking signature") {
  auto header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  auto payload = base64url_encode(R"({"sub":"alice","exp":1900000000})");
  jwt_claims out;
  CHECK(jwt_verify(header + "." + payload + ".", secret, now, 0, out).message
        == "unsupported token algorithm");
}

TEST_CASE("sub must be a valid user id") {
  jwt_claims out;
  CHECK(jwt_verify(jwt_sign(claims_for("has space"), secret), secret, now, 0, out).message
        == "token sub is not a valid user id");
  CHECK(jwt_verify(jwt_sign(claims_for(std::string(65, 'a')), secret), secret, now, 0, out).code
        == errc::unauthorized);
  CHECK(valid_user_id("a.b-c_D9"));
  CHECK_FALSE(valid_user_id(""));
  CHECK_FALSE(valid_user_id("é"));
}

TEST_CASE("base64url round-trips every byte value") {
  std::string all;
  for (int i = 0; i < 256; ++i)
    all.push_back(static_cast<char>(i));
  for (size_t len = 0; len < all.size(); len += 37) {
    std::string back;
    REQUIRE(base64url_decode(base64url_encode(all.substr(0, len)), back));
    CHECK(back == all.substr(0, len));
  }
  std::string ignored;
  CHECK_FALSE(base64url_decode("a+b/", ignored));
  // "QQ" is the one spelling of "A"; "QR" carries non-zero leftover bits.
  CHECK(base64url_decode("QQ", ignored));
  CHECK_FALSE(base64url_decode("QR", ignored));
}
