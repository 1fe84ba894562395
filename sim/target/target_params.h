// The remote target's parameters (`target.*`).
#pragma once

#include "common/params.h"

namespace qedisim::target {

// X(member, "dotted.key", Kind, default, min, "meaning"), see common/params.h.
#define QEDISIM_TARGET_PARAMS(X) \
  X(target_latency, "target.latency", Duration, Duration::from_us(100), 0, "service time per command/TMF")

struct TargetParams {
  QEDISIM_TARGET_PARAMS(QEDISIM_PARAM_MEMBER)
};

}  // namespace qedisim::target
