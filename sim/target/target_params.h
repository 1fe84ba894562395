// The remote target's parameters (`target.*`).
#pragma once

#include "common/params.h"

namespace qedisim::target {

// X(member, "dotted.key", Kind, default, min, "meaning"), see common/params.h.
#define QEDISIM_TARGET_PARAMS(X)                                                                                     \
  X(target_latency, "target.latency", Duration, Duration::from_us(100), 0,                                           \
    "median service time of a SCSI command (and the time a login, logout, text or NOP takes)")                       \
  X(target_latency_p99, "target.latency_p99", Duration, Duration::from_us(400), 0,                                   \
    "99th percentile of the SCSI service time (log-normal tail; <= target.latency: every command takes the median)") \
  X(target_queue_depth, "target.queue_depth", Count, 64, 1,                                                          \
    "commands a LUN serves at once; later ones wait in its queue (LIO queues to the backend, no TASK SET FULL)")     \
  X(target_tmf_latency, "target.tmf_latency", Duration, Duration::from_us(20), 0,                                    \
    "arrival to the effect and answer of a TMF (handled on arrival, ahead of queued and in-service commands)")

struct TargetParams {
  QEDISIM_TARGET_PARAMS(QEDISIM_PARAM_MEMBER)
};

}  // namespace qedisim::target
