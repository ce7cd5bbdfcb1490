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
  REQUIRE_FALSE(jwt_verify(jwt_sign(c, secret), secret, now, out));
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
  CHECK(jwt_verify(token, "another-secret-0123456789", now, out).code == errc::unauthorized);

  auto forged = jwt_sign(claims_for("mallory"), secret);
  auto dot1 = token.find('.');
  auto dot2 = token.find('.', dot1 + 1);
  auto fdot1 = forged.find('.');
  auto fdot2 = forged.find('.', fdot1 + 1);
  auto spliced = token.substr(0, dot1 + 1) + forged.substr(fdot1 + 1, fdot2 - fdot1 - 1)
                 + token.substr(dot2);
  CHECK(jwt_verify(spliced, secret, now, out).message == "bad token signature");

  CHECK(jwt_verify(token.substr(0, dot2), secret, now, out).code == errc::unauthorized);
  CHECK(jwt_verify("", secret, now, out).code == errc::unauthorized);
  CHECK(jwt_verify("a.b.c.d", secret, now, out).code == errc::unauthorized);
  CHECK(jwt_verify("!!!.???.***", secret, now, out).code == errc::unauthorized);
}

TEST_CASE("an expired token or one without exp is refused") {
  jwt_claims out;
  auto expired = jwt_sign(claims_for("alice", now - 1), secret);
  CHECK(jwt_verify(expired, secret, now, out).message == "token expired");
  auto no_exp = jwt_sign(claims_for("alice", 0), secret);
  CHECK(jwt_verify(no_exp, secret, now, out).message == "token has no exp claim");
}

TEST_CASE("alg none and other algorithms are refused even with a valid-looking signature") {
  auto header = base64url_encode(R"({"alg":"none","typ":"JWT"})");
  auto payload = base64url_encode(R"({"sub":"alice","exp":1900000000})");
  jwt_claims out;
  CHECK(jwt_verify(header + "." + payload + ".", secret, now, out).message
        == "unsupported token algorithm");
}

TEST_CASE("sub must be a valid user id") {
  jwt_claims out;
  CHECK(jwt_verify(jwt_sign(claims_for("has space"), secret), secret, now, out).message
        == "token sub is not a valid user id");
  CHECK(jwt_verify(jwt_sign(claims_for(std::string(65, 'a')), secret), secret, now, out).code
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
