// Placement: which node owns the entity (kind, id). Every service asks this one function, so
// that clustering changes placement only (ARCHITECTURE.md, Virtual actors and placement).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace parley::runtime {

// Rendezvous (highest random weight) hashing: each member scores hash(member, kind, id) and the
// highest score owns the entity. When a member leaves, only its entities move; when one joins,
// it takes about 1/N of the others'. Members must be non-empty.
const std::string& owner_of(std::string_view kind, std::string_view id,
                            const std::vector<std::string>& members);

} // namespace parley::runtime
