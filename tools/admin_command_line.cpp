#include "tools/admin_command_line.hpp"

#include <fstream>
#include <sstream>

namespace parley::tools {

namespace {

std::string spaced(const std::string& dotted) {
  auto out = dotted;
  for (auto& c : out)
    if (c == '.')
      c = ' ';
  return out;
}

const pb::AdminArgSpec* find_arg(const pb::AdminCommandSpec& spec, const std::string& name) {
  for (auto& a : spec.args())
    if (a.name() == name)
      return &a;
  return nullptr;
}

result<std::string> value_of(const std::string& text) {
  if (text.size() < 2 || text.front() != '@')
    return text;
  std::ifstream in{text.substr(1)};
  if (!in)
    return make_fault(errc::bad_request, "cannot read " + text.substr(1));
  std::stringstream content;
  content << in.rdbuf();
  return content.str();
}

} // namespace

std::string usage_of(const pb::AdminCommandSpec& spec) {
  auto out = spaced(spec.name());
  for (auto& a : spec.args()) {
    if (a.positional())
      out += a.required() ? " <" + a.name() + ">" : " [" + a.name() + "]";
    else
      out += a.required() ? " --" + a.name() + " <" + a.type() + ">"
                          : " [--" + a.name() + " <" + a.type() + ">]";
  }
  return out;
}

result<admin_command_line> parse_admin_command_line(const pb::AdminCommandList& registry,
                                                    const std::vector<std::string>& words) {
  admin_command_line out;
  size_t used = 0;
  std::string name;
  for (size_t n = 1; n <= words.size(); ++n) {
    name += (n > 1 ? "." : "") + words[n - 1];
    for (auto& c : registry.commands())
      if (c.name() == name) {
        out.spec = &c;
        used = n;
      }
  }
  if (out.spec == nullptr) {
    std::string typed;
    for (auto& w : words)
      typed += (typed.empty() ? "" : " ") + w;
    return make_fault(errc::bad_request,
                      "unknown command \"" + typed + "\" (parleyctl help lists them)");
  }
  auto& spec = *out.spec;
  std::vector<const pb::AdminArgSpec*> positionals;
  for (auto& a : spec.args())
    if (a.positional())
      positionals.push_back(&a);
  size_t next_positional = 0;
  for (size_t i = used; i < words.size(); ++i) {
    auto& w = words[i];
    std::string arg_name, raw;
    if (w.size() > 2 && w.compare(0, 2, "--") == 0) {
      auto eq = w.find('=');
      arg_name = w.substr(2, eq == std::string::npos ? std::string::npos : eq - 2);
      if (eq != std::string::npos) {
        raw = w.substr(eq + 1);
      } else {
        if (i + 1 >= words.size())
          return make_fault(errc::bad_request, "--" + arg_name + " needs a value");
        raw = words[++i];
      }
      if (find_arg(spec, arg_name) == nullptr)
        return make_fault(errc::bad_request,
                          spaced(spec.name()) + " has no option --" + arg_name
                            + " (usage: " + usage_of(spec) + ")");
    } else {
      if (next_positional >= positionals.size())
        return make_fault(errc::bad_request, "unexpected \"" + w + "\" (usage: "
                                               + usage_of(spec) + ")");
      arg_name = positionals[next_positional++]->name();
      raw = w;
    }
    auto value = value_of(raw);
    if (!value)
      return value.error();
    out.args[arg_name] = std::move(*value);
  }
  for (auto& a : spec.args())
    if (a.required() && out.args.count(a.name()) == 0)
      return make_fault(errc::bad_request, spaced(spec.name()) + " needs " + a.name()
                                             + " (usage: " + usage_of(spec) + ")");
  return out;
}

} // namespace parley::tools
