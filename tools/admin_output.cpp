#include "tools/admin_output.hpp"

#include "tools/admin_command_line.hpp"

#include <google/protobuf/struct.pb.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <map>
#include <sstream>
#include <vector>

namespace parley::tools {

namespace {

using google::protobuf::Struct;
using google::protobuf::Value;

std::string scalar(const Value& v) {
  switch (v.kind_case()) {
    case Value::kNullValue: return "-";
    case Value::kBoolValue: return v.bool_value() ? "true" : "false";
    case Value::kStringValue: return v.string_value().empty() ? "-" : v.string_value();
    case Value::kNumberValue: {
      auto d = v.number_value();
      std::ostringstream out;
      if (std::floor(d) == d && std::abs(d) < 1e15)
        out << static_cast<int64_t>(d);
      else
        out << std::fixed << std::setprecision(3) << d;
      return out.str();
    }
    case Value::kListValue: {
      std::string out;
      for (auto& item : v.list_value().values())
        out += (out.empty() ? "" : ",") + scalar(item);
      return out.empty() ? "-" : out;
    }
    case Value::kStructValue: return "{...}";
    default: return "-";
  }
}

// Fields in a stable order: identifying ones first, the rest by name.
std::vector<std::string> ordered_names(const std::vector<std::string>& names) {
  static const std::vector<std::string> first = {"node", "kind", "id", "session_id", "user",
                                                 "user_id", "device_id", "status", "state"};
  auto rank = [](const std::string& n) {
    auto it = std::find(first.begin(), first.end(), n);
    return it == first.end() ? first.size() : static_cast<size_t>(it - first.begin());
  };
  auto out = names;
  std::sort(out.begin(), out.end(), [&](auto& a, auto& b) {
    return rank(a) != rank(b) ? rank(a) < rank(b) : a < b;
  });
  return out;
}

// Nested objects as dotted names ("drain.state"), lists of records left for tables.
void flatten(const std::string& prefix, const Struct& s, std::map<std::string, std::string>& out,
             std::map<std::string, const google::protobuf::ListValue*>* tables) {
  for (auto& [name, v] : s.fields()) {
    auto full = prefix.empty() ? name : prefix + "." + name;
    if (v.has_struct_value()) {
      flatten(full, v.struct_value(), out, tables);
    } else if (tables && v.has_list_value() && !v.list_value().values().empty()
               && v.list_value().values(0).has_struct_value()) {
      (*tables)[full] = &v.list_value();
    } else {
      out[full] = scalar(v);
    }
  }
}

void print_table(std::ostream& out, const google::protobuf::ListValue& rows) {
  std::vector<std::map<std::string, std::string>> cells;
  std::vector<std::string> names;
  for (auto& row : rows.values()) {
    std::map<std::string, std::string> flat;
    if (row.has_struct_value())
      flatten({}, row.struct_value(), flat, nullptr);
    else
      flat["value"] = scalar(row);
    for (auto& [n, v] : flat)
      if (std::find(names.begin(), names.end(), n) == names.end())
        names.push_back(n);
    cells.push_back(std::move(flat));
  }
  names = ordered_names(names);
  std::vector<size_t> width;
  for (auto& n : names) {
    size_t w = n.size();
    for (auto& row : cells)
      w = std::max(w, row.count(n) ? row.at(n).size() : 1);
    width.push_back(w);
  }
  auto line = [&](auto cell) {
    std::string text;
    for (size_t i = 0; i < names.size(); ++i) {
      auto c = cell(names[i]);
      text += c;
      if (i + 1 < names.size())
        text += std::string(width[i] - c.size() + 2, ' ');
    }
    out << text << "\n";
  };
  line([](const std::string& n) {
    auto upper = n;
    std::transform(upper.begin(), upper.end(), upper.begin(), ::toupper);
    return upper;
  });
  for (auto& row : cells)
    line([&](const std::string& n) { return row.count(n) ? row.at(n) : std::string{"-"}; });
}

} // namespace

std::string render_table(const pb::AdminReply& reply) {
  std::ostringstream out;
  bool several = reply.answers_size() > 1 || !reply.unanswered().empty();
  for (auto& answer : reply.answers()) {
    if (several)
      out << "== " << answer.node() << " ==\n";
    if (answer.has_error()) {
      out << "error: " << answer.error().code() << ": " << answer.error().message() << "\n";
      continue;
    }
    auto& data = answer.data();
    if (!data.has_struct_value()) {
      out << scalar(data) << "\n";
      continue;
    }
    std::map<std::string, std::string> scalars;
    std::map<std::string, const google::protobuf::ListValue*> tables;
    flatten({}, data.struct_value(), scalars, &tables);
    std::vector<std::string> names;
    for (auto& [n, v] : scalars)
      names.push_back(n);
    size_t width = 0;
    for (auto& n : names)
      width = std::max(width, n.size());
    for (auto& n : ordered_names(names))
      out << n << std::string(width - n.size() + 2, ' ') << scalars[n] << "\n";
    for (auto& [name, rows] : tables) {
      if (!scalars.empty() || tables.size() > 1)
        out << "\n" << name << ":\n";
      print_table(out, *rows);
    }
  }
  for (auto& node : reply.unanswered())
    out << "== " << node << " ==\nno answer\n";
  return out.str();
}

std::string render_commands(const pb::AdminCommandList& registry) {
  std::ostringstream out;
  size_t width = 0;
  std::vector<std::string> usages;
  for (auto& c : registry.commands()) {
    usages.push_back(usage_of(c));
    width = std::max(width, usages.back().size());
  }
  for (int i = 0; i < registry.commands_size(); ++i) {
    auto& c = registry.commands(i);
    out << "  " << usages[i] << std::string(width - usages[i].size() + 2, ' ') << c.summary();
    if (c.mutates())
      out << (c.destructive() ? " [admin, asks]" : " [admin]");
    out << "\n";
  }
  return out.str();
}

} // namespace parley::tools
