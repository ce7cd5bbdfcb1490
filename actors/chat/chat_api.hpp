// What chat's actors answer, as typed interfaces: a message they do not understand is a compile
// error at the caller. Every request and reply type may cross nodes (protobuf messages of
// proto/chat_actors.proto and proto/parley.proto, or plain values); tests/actors/wire_types_test.cpp
// round-trips each. Errors are parley errors (actors/runtime/errors.hpp) carrying public codes.
//
// Conversation (virtual entity of kind "conv", reached with runtime::request_entity):
//   send      ConversationSend -> ConversationAck  durable before the answer; then pushed to every
//                                                  online device of every member in seq order
//   create    GroupCreate      -> Group            a new group (the id is the entity's)
//   members   MembersUpdate    -> Group            add, remove, leave (admins add and remove)
//   receipt   ReceiptUpdate    -> (nothing)        cursor written asynchronously
//   history   HistoryQuery     -> HistoryPage
//   summary   user id          -> ConversationSummary  one item of the conversation list
//   sync      ChatEndpoint     -> SyncResult       writes the device's missing messages to it
//   typing    TypingUpdate     -> (nothing)        broadcast to the other members
//   inspect                    -> ConversationInspection  what it holds in memory (admin
//                                                  console; reads nothing, loads nothing)
//   passivate (from the registry) quit once pending writes are durable
//
// Presence (one actor per node):
//   presence  PresenceQuery                       answers and subscribes through the endpoint
//   online    user id                             the user's first connection opened
//   offline   user id, last_seen_ms               the user's last connection closed
//   closed    session id                          a subscriber's connection closed
//   revoke    PresenceRevoke                      members left a group: re-check subscriptions
//   count     -> uint64_t                         subscriptions held (tests, metrics)
//
// Chat reader (a few actors on threads of their own, actors/chat/chat_reader.hpp): the per-user
// index reads connection actors need, so that no connection actor reads RocksDB itself.
//   convs     user id                -> conversation ids        the user's conversations
//   pending   user id                -> conversation ids        with messages a device may lack
//   contacts  viewer, user ids       -> the ids the viewer may not see (sorted)
//
// Chat service (one actor per node in a cluster, the node service "chat" of the peer link,
// actors/chat/chat_service.hpp): what conversations and connections of other nodes ask of
// this node's connections and indexes.
//   deliver   ChatDelivery                        write it to connections of this node, one way
//   sync      ChatDelivery   -> SyncResult        the same for one connection, paced (a sync)
//   device    ChatEndpoint                        a device connected elsewhere: known here too
//   revoke    PresenceRevoke                      members left a group: presence here re-checks
//   convs     ChatIndexQuery -> ChatIndexAnswer   the user's conversations held here
//   pending   ChatIndexQuery -> ChatIndexAnswer   ... with messages a device may lack
//   contacts  ChatIndexQuery -> ChatIndexAnswer   of user_ids, those sharing no conversation
//                                                 held here with the user
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/chat_actors.pb.h"
#include "proto/parley.pb.h"

#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <string>
#include <vector>

CAF_BEGIN_TYPE_ID_BLOCK(parley_chat, caf::first_custom_type_id + 200)
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ChatEndpoint))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ConversationSend))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ConversationAck))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::GroupCreate))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::MembersUpdate))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ReceiptUpdate))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::HistoryQuery))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::TypingUpdate))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::SyncResult))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::PresenceQuery))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::PresenceRevoke))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::Group))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::HistoryPage))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ConversationSummary))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ConversationInspection))
// chat in a cluster (new types go last: the block's type IDs must not shift between versions)
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ChatDelivery))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ChatIndexQuery))
CAF_ADD_TYPE_ID(parley_chat, (parley::pb::ChatIndexAnswer))
CAF_END_TYPE_ID_BLOCK(parley_chat)

CAF_ADD_ATOM(parley_chat, parley::atoms, conversations_atom, "convs")
CAF_ADD_ATOM(parley_chat, parley::atoms, pending_atom, "pending")
CAF_ADD_ATOM(parley_chat, parley::atoms, contacts_atom, "contacts")
CAF_ADD_ATOM(parley_chat, parley::atoms, deliver_atom, "deliver")
CAF_ADD_ATOM(parley_chat, parley::atoms, device_atom, "device")

namespace parley::chat {

using conversation_api = caf::typed_actor<
  caf::replies_to<send_atom, pb::ConversationSend>::with<pb::ConversationAck>,
  caf::replies_to<create_atom, pb::GroupCreate>::with<pb::Group>,
  caf::replies_to<members_atom, pb::MembersUpdate>::with<pb::Group>,
  caf::reacts_to<receipt_atom, pb::ReceiptUpdate>,
  caf::replies_to<history_atom, pb::HistoryQuery>::with<pb::HistoryPage>,
  caf::replies_to<summary_atom, std::string>::with<pb::ConversationSummary>,
  caf::replies_to<sync_atom, pb::ChatEndpoint>::with<pb::SyncResult>,
  caf::reacts_to<typing_atom, pb::TypingUpdate>,
  caf::reacts_to<passivate_atom>,
  caf::replies_to<inspect_atom>::with<pb::ConversationInspection>>;

using presence_api = caf::typed_actor<
  caf::reacts_to<presence_atom, pb::PresenceQuery>,
  caf::reacts_to<online_atom, std::string>,
  caf::reacts_to<offline_atom, std::string, int64_t>,
  caf::reacts_to<closed_atom, std::string>,
  caf::reacts_to<revoke_atom, pb::PresenceRevoke>,
  caf::replies_to<count_atom>::with<uint64_t>>;

using chat_reader_api = caf::typed_actor<
  caf::replies_to<conversations_atom, std::string>::with<std::vector<std::string>>,
  caf::replies_to<pending_atom, std::string>::with<std::vector<std::string>>,
  caf::replies_to<contacts_atom, std::string, std::vector<std::string>>::with<std::vector<std::string>>>;

using chat_service_api = caf::typed_actor<
  caf::reacts_to<deliver_atom, pb::ChatDelivery>,
  caf::replies_to<sync_atom, pb::ChatDelivery>::with<pb::SyncResult>,
  caf::reacts_to<device_atom, pb::ChatEndpoint>,
  caf::reacts_to<revoke_atom, pb::PresenceRevoke>,
  caf::replies_to<conversations_atom, pb::ChatIndexQuery>::with<pb::ChatIndexAnswer>,
  caf::replies_to<pending_atom, pb::ChatIndexQuery>::with<pb::ChatIndexAnswer>,
  caf::replies_to<contacts_atom, pb::ChatIndexQuery>::with<pb::ChatIndexAnswer>>;

// The peer link's name for a node's chat service.
constexpr const char* chat_service_name = "chat";

} // namespace parley::chat
