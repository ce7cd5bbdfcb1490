// The link service: one actor that owns the key space. It creates links (generated keys from
// its key pool, or custom aliases checked against every key ever used), deletes them (owner or
// admin), and purges expired links in the background. The pool draws random Base62 keys,
// reserves them durably in batches before handing any out, and resumes a previous run's unused
// reservations on start: a key is never handed out twice nor reused.
//
// Messages (the reply callbacks run on the actor's thread):
//   (create_atom, link_create)
//   (delete_atom, link_delete)
//   (purge_atom)   an expiry sweep; the actor schedules these itself
#pragma once

#include "actors/links/links_context.hpp"
#include "proto/parley.pb.h"

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/fwd.hpp>

#include <functional>

namespace parley::links {

struct link_create {
  std::string owner;
  pb::CreateLinkRequest request;
  std::function<void(const fault&, const std::string& key, const pb::StoredLink&)> reply;
};

struct link_delete {
  std::string key;
  std::string user;
  bool admin = false;
  std::function<void(const fault&)> reply;
};

caf::actor spawn_link_service(caf::actor_system& sys, links_context_ptr ctx);

} // namespace parley::links

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::links::link_create)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(parley::links::link_delete)
