// The typed interface of the URL shortener's link service, with request and reply types from
// proto/link_actors.proto and proto/parley.proto. A wrong message is a compile error, and every
// type here can cross nodes (round-tripped in tests/actors/wire_types_test.cpp). Failures answer
// with a parley error (make_error).
//
// link_service_api: the link service (one per node, link_service.hpp), the owner of the key space:
//   (create_atom, NewLink)         -> LinkRecord    a new link, answered once durable
//   (delete_atom, LinkDeletion)    -> void          by the owner or an admin
//   (purge_atom)                   -> uint64_t      turns up to 1,000 expired links into
//                                                   tombstones now: how many it did (the service
//                                                   also sweeps on its own timer)
//   (read_atom, LinkKey)           -> LinkRecord    a live link (not_found, or gone if expired)
//   (read_atom, LinkStatsQuery)    -> LinkStats     a live link's click statistics
//   (resolve_atom, LinkKey)        -> LinkLookup    the stored record in any state, for a
//                                                   redirect that missed the node's cache
//   (clicks_atom, ClickBatch)                       clicks other nodes' redirects counted for
//                                                   links this node owns (no answer)
//   (uncache_atom, LinkKey)                         the link's owner deleted it: drop it from
//                                                   this node's redirect cache (no answer)
//
// In a cluster the link service is a keyed node service (link_service_name): a link lives on
// the primary of partition_of(key), and callers reach that node's service through
// runtime::service_router (links_context::service_for). Creates without an alias go to the
// receiving node's service, which hands out keys of partitions it owns.
#pragma once

#include "actors/runtime/atoms.hpp"
#include "actors/runtime/protobuf_inspect.hpp"
#include "proto/link_actors.pb.h"

#include <caf/replies_to.hpp>
#include <caf/type_id.hpp>
#include <caf/typed_actor.hpp>

#include <cstdint>

CAF_BEGIN_TYPE_ID_BLOCK(parley_links, caf::first_custom_type_id + 500)
CAF_ADD_ATOM(parley_links, parley::atoms, clicks_atom, "clicks")
CAF_ADD_ATOM(parley_links, parley::atoms, uncache_atom, "uncache")
// requests
CAF_ADD_TYPE_ID(parley_links, (parley::pb::NewLink))
CAF_ADD_TYPE_ID(parley_links, (parley::pb::LinkDeletion))
CAF_ADD_TYPE_ID(parley_links, (parley::pb::LinkKey))
CAF_ADD_TYPE_ID(parley_links, (parley::pb::LinkStatsQuery))
// replies
CAF_ADD_TYPE_ID(parley_links, (parley::pb::LinkRecord))
CAF_ADD_TYPE_ID(parley_links, (parley::pb::LinkLookup))
CAF_ADD_TYPE_ID(parley_links, (parley::pb::LinkStats))
// between nodes
CAF_ADD_TYPE_ID(parley_links, (parley::pb::ClickBatch))
CAF_END_TYPE_ID_BLOCK(parley_links)

namespace parley::links {

using link_service_api = caf::typed_actor<
  caf::replies_to<create_atom, pb::NewLink>::with<pb::LinkRecord>,
  caf::replies_to<delete_atom, pb::LinkDeletion>::with<void>,
  caf::replies_to<purge_atom>::with<uint64_t>,
  caf::replies_to<read_atom, pb::LinkKey>::with<pb::LinkRecord>,
  caf::replies_to<read_atom, pb::LinkStatsQuery>::with<pb::LinkStats>,
  caf::replies_to<resolve_atom, pb::LinkKey>::with<pb::LinkLookup>,
  caf::reacts_to<clicks_atom, pb::ClickBatch>,
  caf::reacts_to<uncache_atom, pb::LinkKey>>;

// The name peers reach a node's link service by (runtime::service_router).
constexpr const char* link_service_name = "link_service";

} // namespace parley::links
