// The one hash whose values leave the process: rendezvous scores and partition numbers must be
// the same on every node and in every version, so its definition is part of the cluster contract.
#pragma once

#include <cstdint>
#include <string_view>

namespace parley {

// 64-bit FNV-1a over each part's bytes followed by a 0xff separator byte (so ("ab", "c") and
// ("a", "bc") differ: 0xff never occurs in UTF-8), then the splitmix64 finalizer, which spreads
// keys that differ only in their last bytes ("n1", "n2") over the whole range.
// Changing any constant or step here moves every partition and every entity of a running
// cluster: never change it; add a new function if a new hash is ever needed.
class stable_hash {
public:
  stable_hash& add(std::string_view part) {
    for (unsigned char c : part)
      mix(c);
    mix(0xff);
    return *this;
  }

  uint64_t value() const {
    uint64_t h = h_ + 0x9e3779b97f4a7c15ull;
    h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
    h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
    return h ^ (h >> 31);
  }

private:
  void mix(unsigned char c) {
    h_ ^= c;
    h_ *= 1099511628211ull;  // FNV-1a 64-bit prime
  }

  uint64_t h_ = 1469598103934665603ull;  // FNV-1a 64-bit offset basis
};

} // namespace parley
