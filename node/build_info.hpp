// The build's version and git commit (parley_build_info, admin node.status).
#pragma once

namespace parley::node {

const char* build_version();
// The commit the build was configured at ("unknown" outside a git checkout).
const char* build_commit();

} // namespace parley::node
