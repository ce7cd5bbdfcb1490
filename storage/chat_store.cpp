#include "storage/chat_store.hpp"

#include "proto/parley.pb.h"
#include "storage/key_codec.hpp"
#include "storage/record.hpp"

#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/io/zero_copy_stream_impl_lite.h>

#include <algorithm>

namespace parley::storage {

namespace {

// Cursor keys share one family; the first byte says which cursor.
constexpr uint8_t delivered_tag = 'd';
constexpr uint8_t read_tag = 'r';
constexpr uint8_t device_tag = 'v';

std::string message_key(const std::string& conv, uint64_t seq) {
  return key_builder{}.str(conv).u64(seq).bytes();
}

std::string u64_value(uint64_t v) {
  return key_builder{}.u64(v).bytes();
}

// A value written by u64_value, nullopt when it is anything else.
std::optional<uint64_t> parse_u64(std::string_view v) {
  key_reader r{v};
  auto out = r.u64();
  if (!out || !r.done())
    return std::nullopt;
  return out;
}

bool decode_message(std::string_view key, std::string_view value, chat_message& out) {
  key_reader r{key};
  auto conv = r.str();
  auto seq = r.u64();
  pb::StoredMessage m;
  if (!conv || !seq || !r.done()
      || !m.ParseFromArray(value.data(), static_cast<int>(value.size())))
    return false;
  out.seq = *seq;
  out.sender_id = m.sender_id();
  out.client_msg_id = m.client_msg_id();
  out.body = m.body();
  out.sent_at_ms = m.sent_at_ms();
  return true;
}

// The messages in [from, to), at most `limit`, newest first when `reverse`; a message that does
// not decode is reported (scan_records), never skipped.
fault scan_messages(const engine& db, const std::string& from, const std::string& to, size_t limit,
                    bool reverse, std::vector<chat_message>& out) {
  return scan_records(
    db, family::messages, from, to,
    [&](std::string_view key, std::string_view value) {
      chat_message m;
      if (!decode_message(key, value, m))
        return visit::corrupt;
      out.push_back(std::move(m));
      return visit::next;
    },
    limit, reverse);
}

std::string dedup_key(const std::string& sender, const std::string& conv,
                      const std::string& client_msg_id) {
  return key_builder{}.str(sender).str(conv).str(client_msg_id).bytes();
}

} // namespace

member_join conversation_record::join_of(const std::string& user) const {
  auto it = joins.find(user);
  return it != joins.end() ? it->second : member_join{};
}

result<std::vector<std::string>> chat_store::names_under(family fam, const std::string& prefix,
                                                         const std::string& more) const {
  std::vector<std::string> out;
  auto from = prefix + more;
  auto err = scan_records(db_, fam, from, prefix_successor(from),
                          [&](std::string_view key, std::string_view) {
                            key_reader r{key.substr(prefix.size())};
                            auto name = r.str();
                            if (!name)
                              return visit::corrupt;
                            out.push_back(std::move(*name));
                            return visit::next;
                          });
  if (err)
    return err;
  return out;
}

result<std::optional<conversation_record>> chat_store::conversation(
  const std::string& conv) const {
  auto read = read_record<pb::StoredConversation>(db_, family::conversations, conv);
  if (!read || !*read)
    return read ? result<std::optional<conversation_record>>{std::nullopt}
                : std::move(read).take_error();
  auto& c = **read;
  conversation_record rec;
  rec.group = c.kind() == pb::GROUP;
  rec.title = c.title();
  rec.members.assign(c.member_ids().begin(), c.member_ids().end());
  rec.created_at_ms = c.created_at_ms();
  rec.admins.assign(c.admin_ids().begin(), c.admin_ids().end());
  rec.creator = c.creator_id();
  for (auto& [user, j] : c.joins())
    rec.joins.emplace(user, member_join{j.after_seq(), j.order()});
  rec.next_join_order = std::max<uint64_t>(1, c.next_join_order());
  return std::optional<conversation_record>{std::move(rec)};
}

result<uint64_t> chat_store::last_seq(const std::string& conv) const {
  auto prefix = key_builder{}.str(conv).bytes();
  uint64_t last = 0;
  auto err = scan_records(
    db_, family::messages, prefix, prefix_successor(prefix),
    [&](std::string_view key, std::string_view) {
      key_reader r{key};
      r.str();
      auto seq = r.u64();
      if (!seq || !r.done())
        return visit::corrupt;
      last = *seq;
      return visit::stop;
    },
    1, true);
  if (err)
    return err;
  return last;
}

void chat_store::put_conversation(write_set& ws, const std::string& conv,
                                  const conversation_record& rec,
                                  const std::vector<std::string>& added,
                                  const std::vector<std::string>& removed) const {
  pb::StoredConversation c;
  c.set_kind(rec.group ? pb::GROUP : pb::DIRECT);
  c.set_title(rec.title);
  for (auto& m : rec.members)
    c.add_member_ids(m);
  c.set_created_at_ms(rec.created_at_ms);
  for (auto& a : rec.admins)
    c.add_admin_ids(a);
  c.set_creator_id(rec.creator);
  for (auto& [user, j] : rec.joins) {
    auto& out = (*c.mutable_joins())[user];
    out.set_after_seq(j.after_seq);
    out.set_order(j.order);
  }
  if (rec.group)
    c.set_next_join_order(rec.next_join_order);
  // Map order is unspecified in protobuf; deterministic output keeps records comparable.
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw{&bytes};
    google::protobuf::io::CodedOutputStream coded{&raw};
    coded.SetSerializationDeterministic(true);
    c.SerializeToCodedStream(&coded);
  }
  ws.put(family::conversations, conv, std::move(bytes));
  for (auto& user : added)
    ws.put(family::memberships, key_builder{}.str(user).str(conv).bytes(), {});
  for (auto& user : removed) {
    ws.del(family::memberships, key_builder{}.str(user).str(conv).bytes());
    ws.del(family::pending, key_builder{}.str(user).str(conv).bytes());
  }
}

result<std::vector<std::string>> chat_store::conversations_of(const std::string& user) const {
  return names_under(family::memberships, key_builder{}.str(user).bytes());
}

result<std::vector<std::string>> chat_store::groups_of(const std::string& user) const {
  // Group ids start with "g:" and the conversation part of the key is an escaped string whose
  // bytes start with the id's own, so one prefix covers exactly the user's groups.
  return names_under(family::memberships, key_builder{}.str(user).bytes(), "g:");
}

result<bool> chat_store::is_member(const std::string& user, const std::string& conv) const {
  return has_record(db_, family::memberships, key_builder{}.str(user).str(conv).bytes());
}

void chat_store::put_message(write_set& ws, const std::string& conv,
                             const chat_message& msg) const {
  pb::StoredMessage m;
  m.set_sender_id(msg.sender_id);
  m.set_client_msg_id(msg.client_msg_id);
  m.set_body(msg.body);
  m.set_sent_at_ms(msg.sent_at_ms);
  ws.put(family::messages, message_key(conv, msg.seq), m.SerializeAsString());
  put_dedup(ws, msg.sender_id, conv, msg.client_msg_id, dedup_record{msg.seq, msg.sent_at_ms});
}

void chat_store::put_dedup(write_set& ws, const std::string& sender, const std::string& conv,
                           const std::string& client_msg_id, const dedup_record& rec) const {
  pb::StoredDedup d;
  d.set_seq(rec.seq);
  d.set_sent_at_ms(rec.sent_at_ms);
  ws.put(family::dedup, dedup_key(sender, conv, client_msg_id), d.SerializeAsString());
}

void chat_store::put_pending(write_set& ws, const std::string& conv, uint64_t seq,
                             const std::vector<std::string>& members) const {
  // A small index entry per member, never a copy of the message: sync finds a returning
  // user's conversations with undelivered messages without scanning all of them.
  for (auto& user : members)
    ws.put(family::pending, key_builder{}.str(user).str(conv).bytes(), u64_value(seq));
}

result<std::vector<chat_message>> chat_store::messages_between(const std::string& conv,
                                                               uint64_t after, uint64_t up_to,
                                                               size_t limit) const {
  std::vector<chat_message> out;
  if (up_to <= after)
    return out;
  auto err = scan_messages(db_, message_key(conv, after + 1),
                           up_to == UINT64_MAX ? prefix_successor(key_builder{}.str(conv).bytes())
                                               : message_key(conv, up_to + 1),
                           limit, false, out);
  if (err)
    return err;
  return out;
}

result<std::vector<chat_message>> chat_store::history(const std::string& conv, uint64_t before,
                                                      size_t limit, uint64_t after) const {
  std::vector<chat_message> out;
  if (before != 0 && before <= after + 1)
    return out;
  auto from = message_key(conv, after + 1);
  auto to = before == 0 ? prefix_successor(key_builder{}.str(conv).bytes())
                        : message_key(conv, before);
  auto err = scan_messages(db_, from, to, limit, true, out);
  if (err)
    return err;
  return out;
}

result<std::optional<dedup_record>> chat_store::dedup(const std::string& sender,
                                                      const std::string& conv,
                                                      const std::string& client_msg_id) const {
  auto d = read_record<pb::StoredDedup>(db_, family::dedup, dedup_key(sender, conv, client_msg_id));
  if (!d)
    return std::move(d).take_error();
  if (!*d)
    return std::optional<dedup_record>{};
  return std::optional<dedup_record>{dedup_record{(*d)->seq(), (*d)->sent_at_ms()}};
}

result<uint64_t> chat_store::delivered(const std::string& user, const std::string& device,
                                       const std::string& conv) const {
  return read_u64(db_, family::cursors,
                  key_builder{}.u8(delivered_tag).str(user).str(device).str(conv).bytes());
}

void chat_store::put_delivered(write_set& ws, const std::string& user, const std::string& device,
                               const std::string& conv, uint64_t seq) const {
  ws.put(family::cursors, key_builder{}.u8(delivered_tag).str(user).str(device).str(conv).bytes(),
         u64_value(seq));
}

result<uint64_t> chat_store::read(const std::string& user, const std::string& conv) const {
  return read_u64(db_, family::cursors, key_builder{}.u8(read_tag).str(user).str(conv).bytes());
}

void chat_store::put_read(write_set& ws, const std::string& user, const std::string& conv,
                          uint64_t seq) const {
  ws.put(family::cursors, key_builder{}.u8(read_tag).str(user).str(conv).bytes(), u64_value(seq));
}

result<std::vector<std::pair<std::string, uint64_t>>> chat_store::pending_of(
  const std::string& user) const {
  std::vector<std::pair<std::string, uint64_t>> out;
  auto prefix = key_builder{}.str(user).bytes();
  auto err = scan_records(db_, family::pending, prefix, prefix_successor(prefix),
                          [&](std::string_view key, std::string_view value) {
                            key_reader r{key};
                            r.str();
                            auto conv = r.str();
                            auto seq = parse_u64(value);
                            if (!conv || !r.done() || !seq)
                              return visit::corrupt;
                            out.emplace_back(std::move(*conv), *seq);
                            return visit::next;
                          });
  if (err)
    return err;
  return out;
}

void chat_store::clear_pending(write_set& ws, const std::string& user,
                               const std::string& conv) const {
  ws.del(family::pending, key_builder{}.str(user).str(conv).bytes());
}

result<std::vector<std::string>> chat_store::devices_of(const std::string& user) const {
  return names_under(family::cursors, key_builder{}.u8(device_tag).str(user).bytes());
}

void chat_store::put_device(write_set& ws, const std::string& user,
                            const std::string& device) const {
  ws.put(family::cursors, key_builder{}.u8(device_tag).str(user).str(device).bytes(), {});
}

result<int64_t> chat_store::last_seen_ms(const std::string& user) const {
  auto v = read_u64(db_, family::presence, user);
  if (!v)
    return std::move(v).take_error();
  return static_cast<int64_t>(*v);
}

void chat_store::put_last_seen(write_set& ws, const std::string& user, int64_t ms) const {
  ws.put(family::presence, user, u64_value(static_cast<uint64_t>(ms)));
}

} // namespace parley::storage
