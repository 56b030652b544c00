// The error codes of bas::audit (Error::code) besides those its sources pass through
// ("MALFORMED_EXPORT", "IO_ERROR", a node's bas::client codes). A stable interface: the
// command layer maps each onto an exit status (cli/client_options.h).
#pragma once

#include <string_view>

namespace bas::audit {

// A height past the ledger's last was asked for.
inline constexpr std::string_view kHeightOutOfRange = "HEIGHT_OUT_OF_RANGE";
// The ledger did not verify, so what was asked of it (a report) is not given.
inline constexpr std::string_view kDiscrepancy = "DISCREPANCY";

}  // namespace bas::audit
