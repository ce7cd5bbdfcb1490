#include "node/build_info.hpp"

namespace parley::node {

const char* build_version() {
  return PARLEY_VERSION;
}

const char* build_commit() {
  return PARLEY_COMMIT;
}

} // namespace parley::node
