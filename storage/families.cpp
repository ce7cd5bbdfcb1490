#include "storage/families.hpp"

namespace parley::storage {

namespace {

constexpr family_spec specs[family_count] = {
  {family::meta, "meta", true},
};

} // namespace

const family_spec* family_specs() {
  return specs;
}

} // namespace parley::storage
