// How a cluster-scope command's answer is put together from the nodes' parts: a pure function,
// so the merge is tested with made-up answers (tests/actors/admin/answer_merge_test.cpp) before
// there is a cluster to produce real ones.
#pragma once

#include "common/errc.hpp"
#include "proto/admin.pb.h"

#include <optional>
#include <string>
#include <vector>

namespace parley::admin {

// The reply from the parts that came: one answer per node asked, in node order (a second answer
// from one node is ignored), answers from nodes that were not asked dropped, and the asked nodes
// that did not answer listed in `unanswered` (in node order).
pb::AdminReply merge_answers(const std::string& command, const std::string& scope,
                             std::vector<std::string> asked, std::vector<pb::AdminNodeAnswer> got);

// A reply that is a failure as a whole: every node asked answered, and each with an error; the
// first node's error stands for it. nullopt when any node answered with data or stayed silent
// (the operator then sees the parts).
std::optional<fault> whole_failure(const pb::AdminReply& reply);

// One node's parts.
pb::AdminNodeAnswer data_answer(const std::string& node, google::protobuf::Value data);
pb::AdminNodeAnswer error_answer(const std::string& node, const fault& err);

} // namespace parley::admin
