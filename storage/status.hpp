// The one place where RocksDB's Status becomes a parley::fault.
#pragma once

#include "common/errc.hpp"

#include <string_view>

namespace rocksdb {
class Status;
}

namespace parley::storage {

// No fault for ok(); NotFound becomes not_found, Busy/TryAgain/TimedOut unavailable, everything
// else internal. `what` names the operation for the message, e.g. "open data/".
fault to_fault(const rocksdb::Status& st, std::string_view what);

} // namespace parley::storage
