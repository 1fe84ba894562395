// The checkers' own parameters (`checker.*`).
#pragma once

#include "common/params.h"

namespace qedisim::checkers {

// X(member, "dotted.key", Kind, default, min, "meaning"), see common/params.h.
#define QEDISIM_CHECKER_PARAMS(X)                                                                \
  X(checker_wake_slack, "checker.wake_slack", Duration, Duration::from_ms(1), 0,                 \
    "margin used by cleanup_stall and unnecessary_escalation")                                   \
  X(checker_leak_scan_interval, "checker.leak_scan_interval", Duration, Duration::from_s(10), 0, \
    "least simulated time between two kmemleak scans at quiescent points (leak)")

struct CheckerParams {
  QEDISIM_CHECKER_PARAMS(QEDISIM_PARAM_MEMBER)
};

}  // namespace qedisim::checkers
