#include "actors/tasks/task_ids.hpp"

#include <openssl/rand.h>

#include <array>
#include <random>
#include <stdexcept>

namespace parley::tasks {

namespace {

constexpr char alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";
constexpr size_t time_chars = 10;
constexpr size_t random_chars = 10;
constexpr size_t id_chars = time_chars + random_chars;
constexpr size_t fence_chars = 13;

bool in_alphabet(char c) {
  for (size_t i = 0; i < 32; ++i)
    if (alphabet[i] == c)
      return true;
  return false;
}

// Ids need uniqueness, not secrecy (every endpoint needs a token anyway), and a create draws
// about task_shard_count candidates: a per-thread generator seeded from the CSPRNG, not a
// RAND_bytes call per character.
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

void append_random(std::string& out, size_t n) {
  auto& gen = generator();
  uint64_t bits = gen();
  for (size_t i = 0; i < n; ++i) {
    if (i % 12 == 11)
      bits = gen();  // 12 characters of 5 bits per draw
    out.push_back(alphabet[bits & 31]);
    bits >>= 5;
  }
}

} // namespace

uint32_t shard_of(std::string_view task_id) {
  uint32_t h = 2166136261u;
  for (unsigned char c : task_id) {
    h ^= c;
    h *= 16777619u;
  }
  return h % task_shard_count;
}

std::string new_task_id(int64_t now_ms, uint32_t shard) {
  std::string time_part(time_chars, '0');
  auto t = static_cast<uint64_t>(now_ms);
  for (size_t i = time_chars; i-- > 0; t >>= 5)
    time_part[i] = alphabet[t & 31];
  // About task_shard_count draws on average: cheap next to the durable write that follows.
  for (;;) {
    std::string id = time_part;
    append_random(id, random_chars);
    if (shard_of(id) == shard % task_shard_count)
      return id;
  }
}

bool valid_task_id(std::string_view id) {
  if (id.size() != id_chars)
    return false;
  for (char c : id)
    if (!in_alphabet(c))
      return false;
  return true;
}

std::string new_lease_id(std::string_view task_id) {
  std::string out{task_id};
  out.push_back('.');
  append_random(out, fence_chars);
  return out;
}

std::optional<std::string> task_of_lease(std::string_view lease_id) {
  if (lease_id.size() != id_chars + 1 + fence_chars || lease_id[id_chars] != '.')
    return std::nullopt;
  auto task = lease_id.substr(0, id_chars);
  if (!valid_task_id(task))
    return std::nullopt;
  for (char c : lease_id.substr(id_chars + 1))
    if (!in_alphabet(c))
      return std::nullopt;
  return std::string{task};
}

} // namespace parley::tasks
