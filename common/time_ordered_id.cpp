#include "common/time_ordered_id.hpp"

#include <openssl/rand.h>

#include <array>
#include <atomic>
#include <random>
#include <stdexcept>

namespace parley {

namespace {

constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr size_t time_chars = 10;
constexpr size_t sequence_chars = 3;  // 15 bits
constexpr size_t random_chars = time_ordered_id_chars - time_chars - sequence_chars;

// Orders ids created in the same millisecond by this process in creation order.
std::atomic<uint32_t> sequence{0};

int digit_of(char c) {
  for (int i = 0; i < 32; ++i)
    if (alphabet[i] == c)
      return i;
  return -1;
}

// Ids need uniqueness, not secrecy (every endpoint needs a token anyway), and a create draws
// about shard_count candidates: a per-thread generator seeded from the CSPRNG, not a RAND_bytes
// call per character.
std::mt19937_64& generator() {
  thread_local std::mt19937_64 gen = [] {
    std::array<uint64_t, 4> seed{};
    if (RAND_bytes(reinterpret_cast<unsigned char*>(seed.data()), sizeof seed) != 1)
      throw std::runtime_error("RAND_bytes failed");  // no entropy at all: not recoverable
    std::seed_seq seq(seed.begin(), seed.end());
    return std::mt19937_64{seq};
  }();
  return gen;
}

} // namespace

void append_random_id_chars(std::string& out, size_t n) {
  auto& gen = generator();
  uint64_t bits = gen();
  for (size_t i = 0; i < n; ++i) {
    if (i % 12 == 11)
      bits = gen();  // 12 characters of 5 bits per draw
    out.push_back(alphabet[bits & 31]);
    bits >>= 5;
  }
}

uint32_t id_shard(std::string_view id, uint32_t shard_count) {
  uint32_t h = 2166136261u;
  for (unsigned char c : id) {
    h ^= c;
    h *= 16777619u;
  }
  return h % shard_count;
}

std::string new_time_ordered_id(int64_t now_ms, uint32_t shard, uint32_t shard_count) {
  std::string time_part(time_chars + sequence_chars, '0');
  auto t = static_cast<uint64_t>(now_ms);
  for (size_t i = time_chars; i-- > 0; t >>= 5)
    time_part[i] = alphabet[t & 31];
  auto seq = sequence.fetch_add(1, std::memory_order_relaxed);
  for (size_t i = time_chars + sequence_chars; i-- > time_chars; seq >>= 5)
    time_part[i] = alphabet[seq & 31];
  // About shard_count draws on average: cheap next to the durable write that follows.
  for (;;) {
    std::string id = time_part;
    append_random_id_chars(id, random_chars);
    if (id_shard(id, shard_count) == shard % shard_count)
      return id;
  }
}

bool in_id_alphabet(std::string_view s) {
  for (char c : s)
    if (digit_of(c) < 0)
      return false;
  return true;
}

bool valid_time_ordered_id(std::string_view id) {
  return id.size() == time_ordered_id_chars && in_id_alphabet(id);
}

} // namespace parley
