// The checkers' own parameters (`checker.*`).
#pragma once

#include "common/params.h"

namespace qedisim::checkers {

// X(member, "dotted.key", Kind, default, min, "meaning"), see common/params.h.
#define QEDISIM_CHECKER_PARAMS(X)                                                                \
  X(checker_wake_slack, "checker.wake_slack", Duration, Duration::from_ms(1), 0,                 \
    "margin used by cleanup_stall and unnecessary_escalation")                                   \
  X(checker_leak_scan_interval, "checker.leak_scan_interval", Duration, Duration::from_s(10), 0, \
    "least simulated time between two kmemleak scans at quiescent points (leak)")                \
  X(checker_data_race, "checker.data_race", Count, 1, 0,                                         \
    "1: every tracked field access goes to the data_race detector; 0: it is off (faster)")

struct CheckerParams {
  QEDISIM_CHECKER_PARAMS(QEDISIM_PARAM_MEMBER)
};

}  // namespace qedisim::checkers
