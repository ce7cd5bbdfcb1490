// The project's atoms (CAF 0.17.6 style: at most 10 characters each).
#pragma once

#include <caf/all.hpp>

CAF_BEGIN_TYPE_ID_BLOCK(parley, caf::first_custom_type_id)

// virtual-actor registry
CAF_ADD_ATOM(parley, parley::atoms, passivate_atom, "passivate")
CAF_ADD_ATOM(parley, parley::atoms, sweep_atom, "sweep")
CAF_ADD_ATOM(parley, parley::atoms, count_atom, "count")
// storage writer
CAF_ADD_ATOM(parley, parley::atoms, write_atom, "write")
CAF_ADD_ATOM(parley, parley::atoms, written_atom, "written")
// connections
CAF_ADD_ATOM(parley, parley::atoms, frame_atom, "frame")
CAF_ADD_ATOM(parley, parley::atoms, closed_atom, "closed")

CAF_END_TYPE_ID_BLOCK(parley)

namespace parley {
using namespace parley::atoms;
}
