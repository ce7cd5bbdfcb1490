// parleyctl: the operator's command line for a Parley node's admin API (docs/operations.md).
//
//   parleyctl [--node URL] [--token-file F] [-o table|json] [--yes] <noun> <verb> [args]
//   parleyctl sessions list --user alice
//   parleyctl sessions kick --user alice --yes
//
// The commands come from the node (GET /admin/v1/commands). Only data goes to stdout (a table
// on a terminal, JSON when asked or piped); errors go to stderr. Exit status: 0 ok, 1 the
// command failed (or a node did not answer, or a confirmation was declined), 2 usage,
// 3 node unreachable, 4 unauthorized.
#include "net/client/http_client.hpp"
#include "tools/admin_command_line.hpp"
#include "tools/admin_output.hpp"

#include <CLI/CLI.hpp>
#include <google/protobuf/struct.pb.h>
#include <google/protobuf/util/json_util.h>

#include <unistd.h>

#include <cstdlib>
#include <optional>
#include <fstream>
#include <iostream>
#include <sstream>

namespace {

using namespace parley;
namespace client = parley::net::client;

enum exit_code { ok = 0, failed = 1, usage = 2, unreachable = 3, unauthorized = 4 };

std::string env(const char* name) {
  auto* v = std::getenv(name);
  return v ? v : "";
}

std::string trim(std::string s) {
  auto first = s.find_first_not_of(" \t\r\n");
  auto last = s.find_last_not_of(" \t\r\n");
  return first == std::string::npos ? std::string{} : s.substr(first, last - first + 1);
}

template <class Message>
bool parse(const std::string& json, Message& out) {
  google::protobuf::util::JsonParseOptions opts;
  opts.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(json, &out, opts).ok();
}

// The exit status and stderr line for an answer that is not a success.
int report_failure(const client::http_response& res) {
  if (!res.ok()) {
    std::cerr << "parleyctl: node unreachable: " << res.error << "\n";
    return unreachable;
  }
  pb::ErrorBody body;
  std::string message = parse(res.body, body) && body.has_error()
                          ? body.error().code() + ": " + body.error().message()
                          : "status " + std::to_string(res.status);
  std::cerr << "parleyctl: " << message << "\n";
  switch (res.status) {
    case 400: return usage;
    case 401:
    case 403: return unauthorized;
    case 503: return unreachable;
    default: return failed;
  }
}

class node_client {
public:
  node_client(client::http_url url, std::string token)
    : http_(std::move(url), [&] {
        client::http_client_options o;
        o.token = std::move(token);
        o.user_agent = "parleyctl";
        o.connect_timeout = std::chrono::milliseconds{3000};
        o.request_timeout = std::chrono::milliseconds{30000};
        return o;
      }()) {}

  client::http_response commands() {
    client::http_request r;
    r.method = "GET";
    r.target = "/admin/v1/commands";
    return http_.request(r);
  }

  client::http_response run(const std::string& name,
                            const std::map<std::string, std::string>& args) {
    google::protobuf::Struct body;
    for (auto& [k, v] : args)
      (*body.mutable_fields())[k].set_string_value(v);
    std::string json;
    (void) google::protobuf::util::MessageToJsonString(body, &json);
    return http_.post("/admin/v1/" + name, json);
  }

  // The answer's data of a read this program makes on its own (counts for confirmations).
  std::optional<google::protobuf::Struct> read(const std::string& name,
                                               const std::map<std::string, std::string>& args) {
    auto res = run(name, args);
    pb::AdminReply reply;
    if (!res.success() || !parse(res.body, reply) || reply.answers().empty())
      return std::nullopt;
    google::protobuf::Struct merged;
    // Counts add up over the nodes that answered.
    for (auto& a : reply.answers()) {
      if (!a.has_data() || !a.data().has_struct_value())
        continue;
      for (auto& [k, v] : a.data().struct_value().fields()) {
        auto& into = (*merged.mutable_fields())[k];
        if (v.has_number_value())
          into.set_number_value(into.number_value() + v.number_value());
        else
          into = v;
      }
    }
    return merged;
  }

private:
  client::http_client http_;
};

// What a destructive command is about to do, with a count, for the confirmation question.
std::string effect_of(node_client& node, const tools::admin_command_line& cmd) {
  auto& name = cmd.spec->name();
  auto arg = [&](const std::string& n) {
    auto it = cmd.args.find(n);
    return it == cmd.args.end() ? std::string{} : it->second;
  };
  auto sessions_of = [&](const std::string& user) -> std::string {
    auto list = node.read("sessions.list", {{"user", user}});
    return list ? std::to_string(static_cast<int64_t>(list->fields().at("count").number_value()))
                : "an unknown number of";
  };
  if (name == "sessions.kick")
    return arg("id").empty() ? "close " + sessions_of(arg("user")) + " session(s) of user "
                                 + arg("user")
                             : "close session " + arg("id");
  if (name == "users.ban")
    return "ban user " + arg("user") + " and close " + sessions_of(arg("user")) + " session(s)";
  if (name == "node.drain") {
    auto status = node.read("node.status", {});
    auto n = status ? std::to_string(static_cast<int64_t>(status->fields().at("websockets")
                                                            .number_value()))
                    : "all";
    return "drain the node: readyz 503 and close " + n + " WebSocket(s)"
           + (arg("duration").empty() ? "" : " over " + arg("duration"));
  }
  if (name == "tasks.dead.discard")
    return "discard 1 dead task (" + arg("id") + ")";
  if (name == "ratelimits.set") {
    google::protobuf::Struct rules;
    size_t n = 0;
    if (parse(arg("rules"), rules) && rules.fields().count("rules"))
      n = static_cast<size_t>(rules.fields().at("rules").list_value().values_size());
    return "replace the rate-limit rules in force with " + std::to_string(n) + " rule(s)";
  }
  return "run " + name;
}

bool confirmed(const std::string& effect) {
  std::cerr << "This will " << effect << ". Continue? [y/N] " << std::flush;
  std::string answer;
  if (!std::getline(std::cin, answer))
    return false;
  answer = trim(answer);
  return answer == "y" || answer == "Y" || answer == "yes";
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"parleyctl: run admin commands on a Parley node (parleyctl help lists them)"};
  app.prefix_command();  // everything from the first command word on is the command's
  std::string node_url = env("PARLEY_NODE").empty() ? "http://127.0.0.1:8080" : env("PARLEY_NODE");
  std::string token_file;
  std::string output;
  bool yes = false;
  app.add_option("--node", node_url, "node URL (default $PARLEY_NODE or http://127.0.0.1:8080)");
  app.add_option("--token-file", token_file, "file holding a viewer or admin JWT "
                                             "(default: $PARLEY_TOKEN)");
  app.add_option("-o,--output", output, "table or json (default: table on a terminal, "
                                        "json when piped)")
    ->check(CLI::IsMember({"table", "json"}));
  app.add_flag("-y,--yes", yes, "do not ask before destructive commands");
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    auto code = app.exit(e);
    return code == 0 ? ok : usage;
  }
  // --yes and -o may also follow the command (`parleyctl sessions kick --user bob --yes`).
  std::vector<std::string> words;
  auto rest = app.remaining();
  for (size_t i = 0; i < rest.size(); ++i) {
    auto& w = rest[i];
    if (w == "-y" || w == "--yes") {
      yes = true;
    } else if ((w == "-o" || w == "--output") && i + 1 < rest.size()) {
      output = rest[++i];
    } else if (w.rfind("--output=", 0) == 0) {
      output = w.substr(9);
    } else {
      words.push_back(w);
    }
  }
  if (!output.empty() && output != "table" && output != "json") {
    std::cerr << "parleyctl: -o must be table or json\n";
    return usage;
  }

  std::string token = env("PARLEY_TOKEN");
  if (!token_file.empty()) {
    std::ifstream in{token_file};
    if (!in) {
      std::cerr << "parleyctl: cannot read token file " << token_file << "\n";
      return usage;
    }
    std::stringstream text;
    text << in.rdbuf();
    token = trim(text.str());
  }
  if (token.empty()) {
    std::cerr << "parleyctl: no token: pass --token-file or set PARLEY_TOKEN\n";
    return unauthorized;
  }
  client::http_url url;
  std::string url_error;
  if (!client::parse_http_url(node_url, url, url_error)) {
    std::cerr << "parleyctl: --node: " << url_error << "\n";
    return usage;
  }

  node_client node{url, token};
  auto listed = node.commands();
  if (!listed.success())
    return report_failure(listed);
  pb::AdminCommandList registry;
  if (!parse(listed.body, registry)) {
    std::cerr << "parleyctl: the node's command list does not parse\n";
    return failed;
  }
  if (words.empty() || words[0] == "help") {
    (words.empty() ? std::cerr : std::cout)
      << "usage: parleyctl [--node URL] [--token-file F] [-o table|json] [--yes] <command>\n"
      << "commands of " << node_url << ":\n"
      << tools::render_commands(registry);
    return words.empty() ? usage : ok;
  }
  auto cmd = tools::parse_admin_command_line(registry, words);
  if (!cmd) {
    std::cerr << "parleyctl: " << cmd.error().message << "\n";
    return usage;
  }
  if (cmd->spec->destructive() && !yes && !confirmed(effect_of(node, *cmd))) {
    std::cerr << "parleyctl: not confirmed; nothing done\n";
    return failed;
  }
  auto res = node.run(cmd->spec->name(), cmd->args);
  if (!res.success())
    return report_failure(res);
  pb::AdminReply reply;
  if (!parse(res.body, reply)) {
    std::cerr << "parleyctl: the node's answer does not parse\n";
    return failed;
  }
  auto as_json = output == "json" || (output.empty() && !isatty(STDOUT_FILENO));
  if (as_json)
    std::cout << res.body << "\n";
  else
    std::cout << tools::render_table(reply);
  int status = ok;
  for (auto& a : reply.answers())
    if (a.has_error()) {
      std::cerr << "parleyctl: " << a.node() << ": " << a.error().code() << ": "
                << a.error().message() << "\n";
      status = failed;
    }
  for (auto& n : reply.unanswered()) {
    std::cerr << "parleyctl: " << n << " did not answer\n";
    status = failed;
  }
  return status;
}
