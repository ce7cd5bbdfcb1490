// The project's atoms (CAF 0.17.6 style: at most 10 characters each).
#pragma once

#include <caf/all.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(parley, caf::first_custom_type_id)

// virtual-actor registry
CAF_ADD_ATOM(parley, parley::atoms, passivate_atom, "passivate")
CAF_ADD_ATOM(parley, parley::atoms, resolve_atom, "resolve")
CAF_ADD_ATOM(parley, parley::atoms, sweep_atom, "sweep")
CAF_ADD_ATOM(parley, parley::atoms, count_atom, "count")
CAF_ADD_ATOM(parley, parley::atoms, trim_atom, "trim")
CAF_ADD_ATOM(parley, parley::atoms, locate_atom, "locate")
CAF_ADD_ATOM(parley, parley::atoms, sample_atom, "sample")
// storage writer
CAF_ADD_ATOM(parley, parley::atoms, write_atom, "write")
CAF_ADD_ATOM(parley, parley::atoms, written_atom, "written")
// connections
CAF_ADD_ATOM(parley, parley::atoms, frame_atom, "frame")
CAF_ADD_ATOM(parley, parley::atoms, closed_atom, "closed")
// chat
CAF_ADD_ATOM(parley, parley::atoms, send_atom, "send")
CAF_ADD_ATOM(parley, parley::atoms, create_atom, "create")
CAF_ADD_ATOM(parley, parley::atoms, members_atom, "members")
CAF_ADD_ATOM(parley, parley::atoms, receipt_atom, "receipt")
CAF_ADD_ATOM(parley, parley::atoms, history_atom, "history")
CAF_ADD_ATOM(parley, parley::atoms, summary_atom, "summary")
CAF_ADD_ATOM(parley, parley::atoms, sync_atom, "sync")
CAF_ADD_ATOM(parley, parley::atoms, typing_atom, "typing")
CAF_ADD_ATOM(parley, parley::atoms, presence_atom, "presence")
CAF_ADD_ATOM(parley, parley::atoms, online_atom, "online")
CAF_ADD_ATOM(parley, parley::atoms, offline_atom, "offline")
CAF_ADD_ATOM(parley, parley::atoms, revoke_atom, "revoke")
// links
CAF_ADD_ATOM(parley, parley::atoms, delete_atom, "delete")
CAF_ADD_ATOM(parley, parley::atoms, refill_atom, "refill")
CAF_ADD_ATOM(parley, parley::atoms, purge_atom, "purge")
CAF_ADD_ATOM(parley, parley::atoms, flush_atom, "flush")
CAF_ADD_ATOM(parley, parley::atoms, drain_atom, "drain")
// tasks
CAF_ADD_ATOM(parley, parley::atoms, tick_atom, "tick")
CAF_ADD_ATOM(parley, parley::atoms, wake_atom, "wake")
CAF_ADD_ATOM(parley, parley::atoms, command_atom, "command")
CAF_ADD_ATOM(parley, parley::atoms, lease_atom, "lease")
CAF_ADD_ATOM(parley, parley::atoms, heartbeat_atom, "heartbeat")
CAF_ADD_ATOM(parley, parley::atoms, finish_atom, "finish")
CAF_ADD_ATOM(parley, parley::atoms, expire_atom, "expire")
CAF_ADD_ATOM(parley, parley::atoms, ready_atom, "ready")
CAF_ADD_ATOM(parley, parley::atoms, withdraw_atom, "withdraw")
CAF_ADD_ATOM(parley, parley::atoms, timeout_atom, "timeout")
CAF_ADD_ATOM(parley, parley::atoms, poll_atom, "poll")
CAF_ADD_ATOM(parley, parley::atoms, run_atom, "run")

// feed
CAF_ADD_ATOM(parley, parley::atoms, follow_atom, "follow")
CAF_ADD_ATOM(parley, parley::atoms, engage_atom, "engage")
CAF_ADD_ATOM(parley, parley::atoms, touch_atom, "touch")
CAF_ADD_ATOM(parley, parley::atoms, read_atom, "read")
CAF_ADD_ATOM(parley, parley::atoms, fanout_atom, "fanout")

// cluster (new atoms go last: the block's type IDs must not shift between versions)
CAF_ADD_ATOM(parley, parley::atoms, rebalance_atom, "rebalance")
CAF_ADD_ATOM(parley, parley::atoms, forward_atom, "forward")
CAF_ADD_ATOM(parley, parley::atoms, peer_up_atom, "peer_up")
CAF_ADD_ATOM(parley, parley::atoms, peer_down_atom, "peer_down")
CAF_ADD_ATOM(parley, parley::atoms, members_changed_atom, "membership")
// admin console: an active entity's handle without activating it; an entity's own summary
CAF_ADD_ATOM(parley, parley::atoms, peek_atom, "peek")
CAF_ADD_ATOM(parley, parley::atoms, inspect_atom, "inspect")
CAF_END_TYPE_ID_BLOCK(parley)

namespace parley {
using namespace parley::atoms;
}
