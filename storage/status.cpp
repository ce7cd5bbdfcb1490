#include "storage/status.hpp"

#include <rocksdb/status.h>

namespace parley::storage {

fault to_fault(const rocksdb::Status& st, std::string_view what) {
  if (st.ok())
    return {};
  auto message = std::string{what} + ": " + st.ToString();
  if (st.IsNotFound())
    return make_fault(errc::not_found, std::move(message));
  if (st.IsBusy() || st.IsTryAgain() || st.IsTimedOut() || st.IsIncomplete())
    return make_fault(errc::unavailable, std::move(message));
  return make_fault(errc::internal, std::move(message));
}

} // namespace parley::storage
