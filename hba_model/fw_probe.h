// Read-only view of the firmware for the testbench, checkers and tracing.
// Checkers observe through this and FwObserver; they never change behaviour.
#pragma once

#include <cstdint>

#include "hba_model/fw_task_table.h"
#include "hba_model/hsi/qedi_hsi.h"
#include "hba_model/wire.h"

namespace qedisim::hba {

struct FwCounters {
  std::uint64_t wqes_fetched = 0;
  std::uint64_t wqes_executed = 0;
  std::uint64_t wqe_errors = 0;       // bad tid, bad type, SQ of an unknown cid
  std::uint64_t doorbell_errors = 0;  // doorbell for a cid that is not offloaded
  std::uint64_t sq_prod_errors = 0;   // doorbell behind the consumer or beyond the ring: refused
  std::uint64_t scsi_cmds_sent = 0;
  std::uint64_t mtasks_sent = 0;          // login, logout, NOP-Out, text, TMF
  std::uint64_t ctx_overwrites_held = 0;  // tid_double_owner, firmware side
  std::uint64_t cleanups_requested = 0;
  std::uint64_t cleanups_completed = 0;
  std::uint64_t cleanups_of_unheld_tid = 0;  // idle, finished or reassigned tid
  std::uint64_t responses_delivered = 0;
  std::uint64_t responses_dropped_invalidated = 0;  // tid cleaned before the response came
  std::uint64_t responses_dropped_unmatched = 0;    // no context for that (cid, itt)
  std::uint64_t responses_dropped_no_conn = 0;      // connection gone
  std::uint64_t cqes_posted = 0;                    // handed to the CQ writer (held ones included)
  std::uint64_t cqes_delayed = 0;                   // by the fw.cqe failpoint
  std::uint64_t tasks_flushed = 0;                  // clear_sq
  std::uint64_t tasks_dropped = 0;                  // destroy_conn
  std::uint64_t ramrods_completed = 0;
};

enum class FwConnState : std::uint8_t { free, offloaded, terminating, terminated };

// Event hooks for checkers (tid_double_owner, wrong_task_cleanup, fw_orphan in docs/invariants.md). Default: ignore.
class FwObserver {
 public:
  virtual ~FwObserver() = default;
  // A WQE's task context was loaded over `previous` (overwrote_held: it was
  // still held for another (cid, itt)).
  virtual void on_task_init(std::uint16_t /*tid*/, const FwTask& /*previous*/, const FwTask& /*now*/,
                            bool /*overwrote_held*/) {}
  // A TASK_CLEANUP WQE ran on connection cid against tid, whose entry was `victim`.
  virtual void on_cleanup(std::uint16_t /*cid*/, std::uint16_t /*tid*/, const FwTask& /*victim*/) {}
  virtual void on_response_dropped(const IscsiPdu& /*pdu*/, const char* /*reason*/) {}
  virtual void on_cqe(unsigned /*vector*/, const hsi::IscsiCqe& /*cqe*/) {}
  // clear_sq or destroy_conn dropped every WQE of connection cid not yet
  // fetched (sq_cons = sq_prod). fw_orphan, sq_overwrite.
  virtual void on_sq_discarded(std::uint16_t /*cid*/) {}
  // sq_overwrite: the SQ fetch engine loaded slot `slot` of cid's SQ (a WQE
  // for `tid`); a doorbell was refused (producer behind the consumer or
  // beyond the ring of `size`).
  virtual void on_sq_fetched(std::uint16_t /*cid*/, std::uint32_t /*slot*/, std::uint16_t /*tid*/) {}
  virtual void on_sq_doorbell_refused(std::uint16_t /*cid*/, std::uint32_t /*prod*/, std::uint32_t /*cons*/,
                                      std::uint32_t /*size*/) {}
};

}  // namespace qedisim::hba
