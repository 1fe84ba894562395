// The HBA's parameters (`hba.*`, `fw.*`, `link.*`): its tables, the
// firmware's latencies and how long it takes to notice a lost link. Keys,
// defaults and meanings as `qedisim params` prints them.
#pragma once

#include "common/params.h"

namespace qedisim::hba {

// X(member, "dotted.key", Kind, default, min, "meaning"), see common/params.h.
#define QEDISIM_HBA_PARAMS(X)                                                                                \
  X(hba_tids, "hba.tids", Count, 4096, 2, "tid bitmap size, tid 0 reserved (MAX_ISCSI_TASK_ENTRIES)")        \
  X(hba_cq_depth, "hba.cq_depth", Count, 2048, 1, "entries per CQ (QEDI_CQ_SIZE)")                           \
  X(hba_sq_depth, "hba.sq_depth", Count, 1024, 16,                                                           \
    "SQ entries per connection (MAX_OUTSTANDING_TASKS_PER_CON); a session's task pool is at most this")      \
  X(hba_cpus, "hba.cpus", Count, 2, 1, "CPUs = queues = MSI-X vectors = io threads")                         \
  X(fw_wqe_latency, "fw.wqe_latency", Duration, Duration::from_us(2), 0, "doorbell to WQE on the wire")      \
  X(fw_cleanup_latency, "fw.cleanup_latency", Duration, Duration::from_us(20), 0, "task cleanup to its CQE") \
  X(fw_drain_latency, "fw.drain_latency", Duration, Duration::from_ms(1), 0, "time the card drain takes")    \
  X(fw_destroy_conn_latency, "fw.destroy_conn_latency", Duration, Duration::from_ms(1), 0,                   \
    "destroy_conn ramrod to its completion")                                                                 \
  X(link_detect_time, "link.detect_time", Duration, Duration::from_ms(10), 0,                                \
    "link.down to the TCP error event the firmware raises (and libiscsi's conn error)")

struct HbaParams {
  QEDISIM_HBA_PARAMS(QEDISIM_PARAM_MEMBER)
};

}  // namespace qedisim::hba
