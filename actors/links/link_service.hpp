// The link service: one actor that owns the key space. It creates links (generated keys from
// its key pool, or custom aliases checked against every key ever used), deletes them (owner or
// admin), purges expired links in the background, and answers the reads that need the store
// (the edge never reads RocksDB on an io thread). The pool draws random Base62 keys, reserves
// them durably in batches before handing any out, and resumes a previous run's unused
// reservations on start: a key is never handed out twice nor reused.
// Interface: link_service_api (links_api.hpp).
#pragma once

#include "actors/links/links_context.hpp"

#include <caf/fwd.hpp>

namespace parley::links {

link_service_api spawn_link_service(caf::actor_system& sys, links_context_ptr ctx);

} // namespace parley::links
