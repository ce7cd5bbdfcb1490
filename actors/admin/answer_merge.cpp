#include "actors/admin/answer_merge.hpp"

#include <algorithm>
#include <set>

namespace parley::admin {

namespace {

// The code named `name` on the wire; internal for a name this build does not know.
errc code_named(const std::string& name) {
  for (auto c = static_cast<int>(errc::bad_request);
       c <= static_cast<int>(errc::method_not_allowed); ++c)
    if (to_string(static_cast<errc>(c)) == name)
      return static_cast<errc>(c);
  return errc::internal;
}

} // namespace

pb::AdminReply merge_answers(const std::string& command, const std::string& scope,
                             std::vector<std::string> asked, std::vector<pb::AdminNodeAnswer> got) {
  std::sort(asked.begin(), asked.end());
  asked.erase(std::unique(asked.begin(), asked.end()), asked.end());
  std::stable_sort(got.begin(), got.end(),
                   [](const auto& a, const auto& b) { return a.node() < b.node(); });
  pb::AdminReply reply;
  reply.set_command(command);
  reply.set_scope(scope);
  std::set<std::string> answered;
  for (auto& answer : got) {
    if (!std::binary_search(asked.begin(), asked.end(), answer.node())
        || !answered.insert(answer.node()).second)
      continue;
    *reply.add_answers() = std::move(answer);
  }
  for (auto& node : asked)
    if (answered.count(node) == 0)
      reply.add_unanswered(node);
  return reply;
}

std::optional<fault> whole_failure(const pb::AdminReply& reply) {
  if (reply.answers().empty() || !reply.unanswered().empty())
    return std::nullopt;
  for (auto& answer : reply.answers())
    if (!answer.has_error())
      return std::nullopt;
  auto& first = reply.answers(0).error();
  return make_fault(code_named(first.code()), first.message());
}

pb::AdminNodeAnswer data_answer(const std::string& node, google::protobuf::Value data) {
  pb::AdminNodeAnswer out;
  out.set_node(node);
  *out.mutable_data() = std::move(data);
  return out;
}

pb::AdminNodeAnswer error_answer(const std::string& node, const fault& err) {
  pb::AdminNodeAnswer out;
  out.set_node(node);
  out.mutable_error()->set_code(std::string{to_string(err.code)});
  out.mutable_error()->set_message(err.message);
  return out;
}

} // namespace parley::admin
