// chat_load: chat throughput and latency against a running parleyd (durability on).
//
//   chat_load --port P --secret S [--pairs 50] [--window 64] [--seconds 10]
//             [--group 500] [--history 1000000] [--ports P1,P2,...] [--latency-rate R]
//
// With --ports (the nodes of a cluster, all on 127.0.0.1) clients connect to the ports in turn,
// so a sender and its receiver sit on different nodes.
//
// Phases, each with progress on stderr and a result line on stdout:
//   1. max sustained delivery: `pairs` senders each keep `window` sends in flight to their own
//      receiver; delivered messages/s counted at the receivers after a 2 s warm-up
//   2. latency at 50% of that rate (or at --latency-rate messages/s, e.g. half of a goal): paced
//      sends, send -> peer receives, p50/p99/p999
//   3. group fan-out: `group` members online, 50 messages; time until all other members have
//      each message, p50/p99
//   4. history: a conversation with `history` messages; `history` frames (limit 50) at random
//      positions, p50/p99
// Frames are protobuf binary (encoding=binary), as a mobile client would send them.
#include "net/jwt.hpp"
#include "proto/parley.pb.h"

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <deque>
#include <functional>
#include <iostream>
#include <memory>
#include <random>
#include <string>
#include <vector>

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using clock_type = std::chrono::steady_clock;
using parley::pb::ClientFrame;
using parley::pb::ServerFrame;

namespace {

std::string arg(int argc, char** argv, const std::string& name, const std::string& fallback) {
  for (int i = 1; i + 1 < argc; ++i)
    if (argv[i] == name)
      return argv[i + 1];
  return fallback;
}

int64_t now_ns() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(clock_type::now().time_since_epoch())
    .count();
}

double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  auto i = static_cast<size_t>(p * static_cast<double>(v.size() - 1));
  return v[i];
}

// One WebSocket client connection with an async read loop and a write queue.
struct client : std::enable_shared_from_this<client> {
  websocket::stream<tcp::socket> ws;
  beast::flat_buffer buf;
  std::deque<std::string> out;
  bool writing = false;
  std::string user;
  std::function<void(ServerFrame&)> on_frame;

  client(asio::io_context& ioc, std::string u) : ws(ioc), user(std::move(u)) {}

  void send(const ClientFrame& f) {
    out.push_back(f.SerializeAsString());
    if (!writing)
      write_next();
  }

  void write_next() {
    if (out.empty()) {
      writing = false;
      return;
    }
    writing = true;
    ws.binary(true);
    ws.async_write(asio::buffer(out.front()), [self = shared_from_this()](beast::error_code ec,
                                                                           std::size_t) {
      if (ec) {
        // Closing a phase's sockets cancels their queued writes: not worth a line.
        if (ec != asio::error::operation_aborted)
          std::fprintf(stderr, "write failed for %s: %s\n", self->user.c_str(),
                       ec.message().c_str());
        return;
      }
      self->out.pop_front();
      self->write_next();
    });
  }

  void read_loop() {
    ws.async_read(buf, [self = shared_from_this()](beast::error_code ec, std::size_t) {
      if (ec)
        return;
      ServerFrame f;
      auto data = self->buf.cdata();
      f.ParseFromArray(data.data(), static_cast<int>(data.size()));
      self->buf.consume(self->buf.size());
      if (f.has_error())
        std::fprintf(stderr, "%s: error %s: %s\n", self->user.c_str(), f.error().code().c_str(),
                     f.error().message().c_str());
      if (self->on_frame)
        self->on_frame(f);
      self->read_loop();
    });
  }
};

using client_ptr = std::shared_ptr<client>;

struct bench {
  asio::io_context ioc{1};
  std::vector<uint16_t> ports{8080};
  std::string secret;
  int source = 0;
  size_t connected = 0;  // clients connected so far: the next one goes to ports[connected % n]

  // Connects `users` (blocking the caller until all are welcomed).
  std::vector<client_ptr> connect_all(const std::vector<std::string>& users) {
    std::vector<client_ptr> out;
    size_t welcomed = 0;
    for (auto& u : users) {
      auto c = std::make_shared<client>(ioc, u);
      parley::net::jwt_claims claims;
      claims.sub = u;
      claims.exp = std::time(nullptr) + 86400;
      auto token = parley::net::jwt_sign(claims, secret);
      auto& sock = c->ws.next_layer();
      sock.open(tcp::v4());
      // Spread over several loopback source addresses (ephemeral ports).
      sock.bind({asio::ip::make_address("127.0.0." + std::to_string(2 + (source++ % 8))), 0});
      sock.connect({asio::ip::make_address("127.0.0.1"), ports[connected++ % ports.size()]});
      sock.set_option(tcp::no_delay(true));
      c->ws.set_option(websocket::stream_base::decorator([token](websocket::request_type& req) {
        req.set(beast::http::field::authorization, "Bearer " + token);
      }));
      c->ws.handshake("127.0.0.1", "/ws?encoding=binary");
      c->on_frame = [&welcomed](ServerFrame& f) {
        if (f.has_welcome())
          ++welcomed;
      };
      c->read_loop();
      out.push_back(c);
    }
    ioc.restart();  // a previous phase may have left it stopped (out of work)
    while (welcomed < users.size())
      ioc.run_one();
    for (auto& c : out)
      c->on_frame = nullptr;
    return out;
  }

  void run_for(std::chrono::milliseconds d) {
    ioc.restart();
    ioc.run_for(d);
  }
};

ClientFrame send_frame(const std::string& to_user, const std::string& conv, uint64_t n,
                       const std::string& body) {
  ClientFrame f;
  f.set_request_id(std::to_string(n));
  auto* s = f.mutable_send();
  if (!to_user.empty())
    s->set_to_user(to_user);
  else
    s->set_conversation_id(conv);
  s->set_client_msg_id("c" + std::to_string(n));
  s->set_body(body);
  return f;
}

// Phase 1: every sender keeps `window` sends in flight; returns delivered messages/s.
double max_throughput(bench& b, int pairs, int window, int seconds) {
  std::vector<std::string> names;
  for (int i = 0; i < pairs; ++i) {
    names.push_back("tp-s" + std::to_string(i));
    names.push_back("tp-r" + std::to_string(i));
  }
  auto conns = b.connect_all(names);
  uint64_t delivered = 0;
  bool counting = false;
  bool running = true;
  std::vector<uint64_t> next(pairs, 0);
  for (int i = 0; i < pairs; ++i) {
    auto sender = conns[2 * i];
    auto receiver = conns[2 * i + 1];
    auto to = receiver->user;
    receiver->on_frame = [&](ServerFrame& f) {
      if (f.has_message() && counting)
        ++delivered;
    };
    sender->on_frame = [&, sender, to, i](ServerFrame& f) {
      if (f.has_ack() && running)
        sender->send(send_frame(to, {}, ++next[i], "throughput"));
    };
    for (int w = 0; w < window; ++w)
      sender->send(send_frame(to, {}, ++next[i], "throughput"));
  }
  std::fprintf(stderr, "  throughput: %d pairs x %d in flight, warming up 2 s\n", pairs, window);
  b.run_for(std::chrono::seconds{2});
  counting = true;
  auto start = clock_type::now();
  for (int s = 0; s < seconds; ++s) {
    b.run_for(std::chrono::seconds{1});
    std::fprintf(stderr, "  throughput: %d s, %llu delivered\n", s + 1,
                 static_cast<unsigned long long>(delivered));
  }
  auto secs = std::chrono::duration<double>(clock_type::now() - start).count();
  counting = false;
  running = false;
  b.run_for(std::chrono::seconds{2});  // drain
  for (auto& c : conns)
    c->ws.next_layer().close();
  b.run_for(std::chrono::milliseconds{200});
  return static_cast<double>(delivered) / secs;
}

// Phase 2: paced sends at `rate` messages/s in total; latency send -> receiver in ms.
std::vector<double> paced_latency(bench& b, int pairs, double rate, int seconds) {
  std::vector<std::string> names;
  for (int i = 0; i < pairs; ++i) {
    names.push_back("lat-s" + std::to_string(i));
    names.push_back("lat-r" + std::to_string(i));
  }
  auto conns = b.connect_all(names);
  std::vector<double> latencies;
  bool counting = false;
  for (int i = 0; i < pairs; ++i)
    conns[2 * i + 1]->on_frame = [&](ServerFrame& f) {
      if (f.has_message() && counting)
        latencies.push_back(static_cast<double>(now_ns() - std::stoll(f.message().body())) / 1e6);
    };
  // A 1 ms tick sends what is due so the total rate is `rate`.
  asio::steady_timer tick{b.ioc};
  uint64_t sent = 0;
  auto start = clock_type::now();
  std::function<void()> on_tick = [&] {
    auto elapsed = std::chrono::duration<double>(clock_type::now() - start).count();
    auto due = static_cast<uint64_t>(elapsed * rate);
    while (sent < due) {
      auto i = static_cast<int>(sent % pairs);
      conns[2 * i]->send(send_frame(conns[2 * i + 1]->user, {}, sent, std::to_string(now_ns())));
      ++sent;
    }
    tick.expires_after(std::chrono::milliseconds{1});
    tick.async_wait([&](beast::error_code ec) {
      if (!ec)
        on_tick();
    });
  };
  on_tick();
  b.run_for(std::chrono::seconds{2});
  counting = true;
  for (int s = 0; s < seconds; ++s) {
    b.run_for(std::chrono::seconds{1});
    std::fprintf(stderr, "  latency: %d s, %zu samples\n", s + 1, latencies.size());
  }
  counting = false;
  tick.cancel();
  b.run_for(std::chrono::seconds{1});
  for (auto& c : conns)
    c->ws.next_layer().close();
  b.run_for(std::chrono::milliseconds{200});
  return latencies;
}

// Phase 3: time until all other members of a `members` group have each of 50 messages.
std::vector<double> group_fanout(bench& b, int members) {
  std::vector<std::string> names;
  for (int i = 0; i < members; ++i)
    names.push_back("grp-" + std::to_string(i));
  std::fprintf(stderr, "  group: connecting %d members\n", members);
  auto conns = b.connect_all(names);
  ClientFrame create;
  create.set_request_id("create");
  for (int i = 1; i < members; ++i)
    create.mutable_create_group()->add_member_ids(names[i]);
  std::string conv;
  conns[0]->on_frame = [&](ServerFrame& f) {
    if (f.has_group() && f.request_id() == "create")
      conv = f.group().conversation_id();
  };
  conns[0]->send(create);
  b.ioc.restart();
  while (conv.empty())
    b.ioc.run_one();
  std::vector<double> all_received;
  int64_t sent_at = 0;
  int received = 0;
  for (int i = 1; i < members; ++i)
    conns[i]->on_frame = [&](ServerFrame& f) {
      if (f.has_message() && ++received == members - 1)
        all_received.push_back(static_cast<double>(now_ns() - sent_at) / 1e6);
    };
  for (int m = 0; m < 50; ++m) {
    received = 0;
    sent_at = now_ns();
    conns[0]->send(send_frame({}, conv, 1000 + m, "to everyone"));
    auto deadline = clock_type::now() + std::chrono::seconds{5};
    while (received < members - 1 && clock_type::now() < deadline)
      b.ioc.run_one_for(std::chrono::milliseconds{10});
    b.run_for(std::chrono::milliseconds{20});
  }
  for (auto& c : conns)
    c->ws.next_layer().close();
  b.run_for(std::chrono::milliseconds{200});
  return all_received;
}

// Phase 4: history pages of a conversation with `count` messages.
std::vector<double> history_latency(bench& b, uint64_t count) {
  auto conns = b.connect_all({"hist-writer"});
  auto c = conns[0];
  uint64_t acked = 0, next = 0;
  const uint64_t window = 256;
  c->on_frame = [&](ServerFrame& f) {
    if (!f.has_ack())
      return;
    if (++acked % 100000 == 0)
      std::fprintf(stderr, "  history: %llu/%llu messages stored\n",
                   static_cast<unsigned long long>(acked), static_cast<unsigned long long>(count));
    if (next < count)
      c->send(send_frame("hist-reader", {}, ++next, "history filler message"));
  };
  while (next < window && next < count)
    c->send(send_frame("hist-reader", {}, ++next, "history filler message"));
  b.ioc.restart();
  while (acked < count)
    b.ioc.run_one();
  std::vector<double> latencies;
  std::mt19937_64 rng{7};
  int64_t started = 0;
  bool answered = false;
  c->on_frame = [&](ServerFrame& f) {
    if (f.has_history_page()) {
      latencies.push_back(static_cast<double>(now_ns() - started) / 1e6);
      answered = true;
    }
  };
  auto conv = std::string{"d:hist-reader:hist-writer"};
  for (int i = 0; i < 2000; ++i) {
    ClientFrame h;
    h.set_request_id("h");
    h.mutable_history()->set_conversation_id(conv);
    h.mutable_history()->set_before_seq(1 + rng() % count);
    h.mutable_history()->set_limit(50);
    answered = false;
    started = now_ns();
    c->send(h);
    while (!answered)
      b.ioc.run_one();
  }
  c->ws.next_layer().close();
  b.run_for(std::chrono::milliseconds{100});
  return latencies;
}

} // namespace

int main(int argc, char** argv) {
  bench b;
  b.ports = {static_cast<uint16_t>(std::stoi(arg(argc, argv, "--port", "8080")))};
  if (auto list = arg(argc, argv, "--ports", ""); !list.empty()) {
    b.ports.clear();
    for (size_t pos = 0; pos < list.size();) {
      auto comma = list.find(',', pos);
      auto item = list.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
      b.ports.push_back(static_cast<uint16_t>(std::stoi(item)));
      pos = comma == std::string::npos ? list.size() : comma + 1;
    }
  }
  b.secret = arg(argc, argv, "--secret", "");
  if (b.secret.empty()) {
    std::cerr << "usage: chat_load --port P --secret S [--pairs 50] [--window 64] [--seconds 10] "
                 "[--group 500] [--history 1000000] [--latency-rate R]\n";
    return 2;
  }
  int pairs = std::stoi(arg(argc, argv, "--pairs", "50"));
  int window = std::stoi(arg(argc, argv, "--window", "64"));
  int seconds = std::stoi(arg(argc, argv, "--seconds", "10"));
  int group = std::stoi(arg(argc, argv, "--group", "500"));
  auto history = std::stoull(arg(argc, argv, "--history", "1000000"));
  auto latency_rate = std::stod(arg(argc, argv, "--latency-rate", "0"));

  std::fprintf(stderr, "phase 1: maximum sustained delivery\n");
  auto max_rate = max_throughput(b, pairs, window, seconds);
  std::printf("max sustained delivery: %.0f messages/s (%d pairs, %d in flight each)\n", max_rate,
              pairs, window);
  std::fflush(stdout);

  auto paced_rate = latency_rate > 0 ? latency_rate : max_rate / 2;
  std::fprintf(stderr, "phase 2: latency at %.0f messages/s\n", paced_rate);
  auto lat = paced_latency(b, pairs, paced_rate, seconds);
  std::printf("latency at %.0f messages/s: p50 %.2f ms, p99 %.2f ms, p999 %.2f ms (%zu samples)\n",
              paced_rate, percentile(lat, 0.5), percentile(lat, 0.99), percentile(lat, 0.999),
              lat.size());
  std::fflush(stdout);

  std::fprintf(stderr, "phase 3: group fan-out\n");
  auto fan = group_fanout(b, group);
  std::printf("%d-member group, time until all members have a message: p50 %.2f ms, p99 %.2f ms "
              "(%zu messages)\n",
              group, percentile(fan, 0.5), percentile(fan, 0.99), fan.size());
  std::fflush(stdout);

  std::fprintf(stderr, "phase 4: history on a long conversation\n");
  auto hist = history_latency(b, history);
  std::printf("history page (50) on %llu messages: p50 %.3f ms, p99 %.3f ms (%zu pages)\n",
              static_cast<unsigned long long>(history), percentile(hist, 0.5),
              percentile(hist, 0.99), hist.size());
  return 0;
}
