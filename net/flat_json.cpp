#include "net/flat_json.hpp"

namespace parley::net {

namespace {

struct scanner {
  std::string_view s;
  size_t i = 0;

  void skip_ws() {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
      ++i;
  }
  bool eat(char c) {
    skip_ws();
    if (i < s.size() && s[i] == c) {
      ++i;
      return true;
    }
    return false;
  }
  bool string(std::string& out) {
    if (!eat('"'))
      return false;
    while (i < s.size()) {
      auto c = static_cast<unsigned char>(s[i++]);
      if (c == '"')
        return true;
      if (c < 0x20 || c >= 0x80)
        return false;
      if (c != '\\') {
        out.push_back(static_cast<char>(c));
        continue;
      }
      if (i >= s.size())
        return false;
      switch (s[i++]) {
        case '"': out.push_back('"'); break;
        case '\\': out.push_back('\\'); break;
        case '/': out.push_back('/'); break;
        case 'b': out.push_back('\b'); break;
        case 'f': out.push_back('\f'); break;
        case 'n': out.push_back('\n'); break;
        case 'r': out.push_back('\r'); break;
        case 't': out.push_back('\t'); break;
        default: return false;  // \u and invalid escapes: the full parser decides
      }
    }
    return false;
  }
  bool scalar(std::string& out, bool& quoted) {
    skip_ws();
    quoted = i < s.size() && s[i] == '"';
    if (quoted)
      return string(out);
    auto start = i;
    if (i < s.size() && s[i] == '-')
      ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
    if (i > start && s[i - 1] != '-') {
      out.assign(s.substr(start, i - start));
      return true;
    }
    for (std::string_view lit : {"true", "false", "null"})
      if (s.substr(start, lit.size()) == lit) {
        i = start + lit.size();
        out.assign(lit);
        return true;
      }
    return false;
  }
};

} // namespace

bool parse_flat_json(std::string_view text, flat_json& out) {
  scanner sc{text};
  out.fields.clear();
  if (!sc.eat('{'))
    return false;
  if (sc.eat('}')) {
    sc.skip_ws();
    return sc.i == text.size();
  }
  for (;;) {
    flat_json::field f;
    if (!sc.string(f.name) || !sc.eat(':') || !sc.scalar(f.value, f.quoted))
      return false;
    out.fields.push_back(std::move(f));
    if (sc.eat(','))
      continue;
    if (!sc.eat('}'))
      return false;
    sc.skip_ws();
    return sc.i == text.size();
  }
}

} // namespace parley::net
