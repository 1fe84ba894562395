// A minimal libiscsi for driving the qedi model alone: sessions, conns, the
// task pool and references, and a record of what qedi handed up. It defines
// the libiscsi.h / transport_iscsi.h functions qedi calls (linked instead of
// qedisim_libiscsi).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "host_driver_model/libiscsi/libiscsi.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"

namespace qedisim::drv::fake {

struct Completed {
  std::uint8_t opcode;
  std::uint32_t itt;
  std::uint8_t response;
  std::uint8_t status;
};

struct Lib {
  kern::Slab<IscsiSession> sessions;
  kern::Slab<IscsiConn> conns;
  kern::Slab<ScsiCmnd> cmnds;
  std::vector<Completed> completed;
  std::vector<std::string> calls;  // block/unblock/conn_failure/... with caller
};
Lib& lib();

// iscsi_session_setup + iscsi_conn_setup + iscsi_conn_bind, simplified.
kern::KPtr<IscsiSession> new_session(std::uint32_t id, std::uint32_t cmds_max = 32);
// A SCSI command task (refcount 1, RUNNING) on the session's lead conn.
kern::KPtr<IscsiTask> new_scsi_task(kern::KPtr<IscsiSession> s, std::uint32_t lun, std::uint32_t cpu = 0);
// A TMF mtask: ABORT TASK of `victim`, or a reset of `lun`.
kern::KPtr<IscsiTask> new_tmf_task(kern::KPtr<IscsiSession> s, std::uint8_t function, kern::KPtr<IscsiTask> victim,
                                   std::uint32_t lun = 0);

}  // namespace qedisim::drv::fake
