// scsi-ml objects (include/scsi/scsi_cmnd.h, scsi_host.h): what the model
// keeps of a SCSI command and the host.
#pragma once

#include <cstdint>
#include <functional>

#include "common/vocabulary.h"
#include "host_driver_model/kernel/slab.h"
#include "host_driver_model/kernel/timer.h"

namespace qedisim::drv {

struct IscsiTask;

// Host byte of scmd->result (include/scsi/scsi.h).
enum HostByte : int {
  DID_OK = 0x00,
  DID_NO_CONNECT = 0x01,
  DID_BUS_BUSY = 0x02,
  DID_TIME_OUT = 0x03,
  DID_ABORT = 0x05,
  DID_ERROR = 0x07,
  DID_RESET = 0x08,
  DID_IMM_RETRY = 0x0c,
  DID_REQUEUE = 0x0d,
  DID_TRANSPORT_DISRUPTED = 0x0e,
  DID_TRANSPORT_FAILFAST = 0x0f,
};
constexpr int host_byte(int result) { return (result >> 16) & 0xff; }
constexpr int make_result(HostByte b) { return static_cast<int>(b) << 16; }

// Who holds a command issue (double_complete, docs/invariants.md): the LLD, the EH, or nobody (finished).
enum class CmdOwner { lld, eh, finished };

// struct scsi_cmnd, one per block-layer request issue.
struct ScsiCmnd {
  static constexpr const char* kTypeName = "scsi_cmnd";
  static constexpr const char* kSizeClass = "blk-mq request pdu";

  std::uint32_t session = 0;  // which iSCSI session (target) it goes to
  std::uint32_t lun = 0;
  std::uint32_t tag = 0;       // blk-mq tag, unique per host while outstanding
  std::uint32_t issue = 1;     // retry number; a retry is a new issue
  std::int32_t stream = -1;    // workload stream index, -1 for internal commands
  std::uint64_t op_index = 0;  // command index within its stream
  OpKind op = OpKind::read;
  std::uint64_t size = 0;
  std::uint32_t cpu = 0;  // submitting CPU = hw queue

  CmdOwner owner = CmdOwner::lld;
  int result = 0;
  std::uint32_t retries = 0;
  std::int64_t jiffies_at_alloc_ns = 0;

  kern::KPtr<IscsiTask> task;    // sc->SCp.ptr: the libiscsi task while queued
  std::int32_t scp_phase = 0;    // sc->SCp.phase: session age at iscsi_alloc_task
  kern::Timer* timer = nullptr;  // blk-mq request timeout, owned by the block layer
};

// kmemleak: a command reaches its libiscsi task (sc->SCp.ptr).
template <typename V>
void scan_refs(const ScsiCmnd& c, V& v) {
  v(c.task);
}

}  // namespace qedisim::drv
