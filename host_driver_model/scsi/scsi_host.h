// scsi-ml above the iSCSI LLD (drivers/scsi/scsi_lib.c, scsi_error.c,
// scsi_ioctl.c): the block-layer entry that turns workload requests into
// scsi_cmnds, the per-CPU dispatch into the host template's queuecommand,
// a busy answer held at the head of its device's hardware queue (the target
// blocked and the queue run again after BLK_MQ_RESOURCE_DELAY), requeue
// with SCSI_QUEUE_DELAY, the per-command timer, the async abort
// work, the EH thread's escalation and the sg_reset ioctl. It calls the
// LLD layer only through ScsiHostTemplate, so it does not depend on libiscsi.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <systemc>
#include <vector>

#include "common/vocabulary.h"
#include "host_driver_model/kernel/kthread.h"
#include "host_driver_model/kernel/slab.h"
#include "host_driver_model/kernel/timer.h"
#include "host_driver_model/kernel/wait.h"
#include "host_driver_model/kernel/workqueue.h"
#include "host_driver_model/scsi/scsi_objects.h"

namespace qedisim::drv {

// Return values of EH handlers (include/scsi/scsi.h).
enum : int { SUCCESS = 0x2002, FAILED = 0x2003 };
// queuecommand return values (include/scsi/scsi.h).
enum : int {
  SCSI_MLQUEUE_HOST_BUSY = 0x1055,
  SCSI_MLQUEUE_DEVICE_BUSY = 0x1056,
  SCSI_MLQUEUE_EH_RETRY = 0x1057,
  SCSI_MLQUEUE_TARGET_BUSY = 0x1058,
};
// enum blk_eh_timer_return
enum class BlkEhTimerReturn { DONE, RESET_TIMER };

// One block-layer request from a workload stream.
struct IoRequest {
  std::uint32_t stream = 0;
  std::uint64_t op_index = 0;
  std::uint32_t session = 0;
  std::uint32_t lun = 0;
  OpKind op = OpKind::read;
  std::uint64_t size = 4096;
  std::uint32_t cpu = 0;
};
// bio end_io: the request's final scsi result (host byte << 16 | status).
using IoDone = std::function<void(int result)>;

// struct scsi_host_template: the LLD entry points scsi-ml calls. An empty
// handler means the template has none (iSCSI templates have no host reset).
struct ScsiHostTemplate {
  std::function<int(kern::KPtr<ScsiCmnd>)> queuecommand;
  std::function<BlkEhTimerReturn(kern::KPtr<ScsiCmnd>)> eh_timed_out;
  std::function<int(kern::KPtr<ScsiCmnd>)> eh_abort_handler;
  std::function<int(kern::KPtr<ScsiCmnd>)> eh_device_reset_handler;
  std::function<int(kern::KPtr<ScsiCmnd>)> eh_target_reset_handler;
  std::function<int(kern::KPtr<ScsiCmnd>)> eh_host_reset_handler;
};

// enum scsi_device_state, reduced.
enum class SdevState { RUNNING, TRANSPORT_OFFLINE, OFFLINE, DEL };

struct ScsiCounters {
  std::uint64_t queue_rq_calls = 0;  // scsi_queue_rq runs: dispatch attempts, refused or not
  std::uint64_t cmds_completed = 0;
  std::uint64_t cmds_failed = 0;
  EhLevel eh_max_level = EhLevel::none;
};

class ScsiHost : public sc_core::sc_module {
 public:
  // `luns[i]`: LUN count of session i (one scsi_target per session).
  // `luns[i]`: target i's LUNs; `cmds_max[i]`: its session's task pool (0 or
  // missing: session.cmds_max), which sets the target's can_queue.
  ScsiHost(sc_core::sc_module_name name, unsigned cpus, const std::vector<std::uint32_t>& luns, ScsiHostTemplate tmpl,
           const std::vector<std::uint32_t>& cmds_max = {});

  // blk_mq_submit_bio + blk_mq_get_request: any context, never blocks.
  void submit(const IoRequest& rq, IoDone done);
  // scsi_done (cmd->scsi_done): called by the LLD layer, possibly under its spinlocks.
  void scsi_done(kern::KPtr<ScsiCmnd> cmd);

  // scsi_ioctl_reset (sg_reset): runs the handlers in the caller's context,
  // holding the device it was opened on (and so its target's parent).
  int scsi_ioctl_reset(std::uint32_t session, std::uint32_t lun, ResetLevel level);
  // A scsi_device reference (scsi_device_get) pins the device, its
  // scsi_target and the target's parent, the transport's session device
  // (iscsi_cls_session->dev, whose memory holds the iscsi_session). The
  // transport says how: `pin(session)` takes the parent's reference and
  // returns what drops it (null: no such session).
  using TargetPin = std::function<std::function<void()>(std::uint32_t session)>;
  void set_target_pin(TargetPin pin) { pin_target_ = std::move(pin); }
  // scsi.abort: the command timer of that stream's op-th command fires now,
  // without iscsi_eh_cmd_timed_out (whose NOP-Out may re-arm the timer), so the abort
  // starts at a known time (host_driver_model/README.md). False if not outstanding.
  bool force_abort(std::uint32_t stream, std::uint64_t op_index);

  // Transport-class hooks (scsi_transport_iscsi): scsi_target_block / _unblock.
  void scsi_target_block(std::uint32_t session);
  void scsi_target_unblock(std::uint32_t session, SdevState new_state);
  // scsi_remove_target (iscsi unbind_target): devices go away; waits until
  // the session's commands have all been returned (blk_cleanup_queue).
  void scsi_remove_target(std::uint32_t session);
  // iscsi_eh_recover_target escalated to a session reset: counted like a level.
  void note_eh_level(kern::KPtr<ScsiCmnd> cmd, EhLevel level);

  bool target_blocked(std::uint32_t session) const { return targets_.at(session).blocked; }
  const ScsiCounters& counters() const { return counters_; }
  std::size_t outstanding() const { return reqs_.size(); }
  bool quiescent() const;

 private:
  enum class Disposition { SUCCESS, NEEDS_RETRY, ADD_TO_MLQUEUE };
  static constexpr std::uint32_t kMaxTargetBlocked = 3;  // SCSI_DEFAULT_TARGET_BLOCKED
  struct Request {
    Request() = default;
    ~Request() { kern::Kernel::hb_retire(this); }  // its address is a handoff channel (scsi_done -> the EH)
    Request(const Request&) = delete;
    Request& operator=(const Request&) = delete;
    std::uint32_t tag = 0;
    kern::KPtr<ScsiCmnd> cmd;
    IoDone done;
    // Built once; each issue sets their callbacks (submit).
    kern::Timer cmd_timer{"scsi_cmd_timer", {}};     // blk-mq request timeout
    kern::Timer requeue_timer{"requeue_timer", {}};  // blk_mq_delay_kick_requeue_list
    kern::Work abort_work{"scmd_eh_abort_handler"};  // scmd->abort_work
    bool in_lld = false;                             // counted in host_busy / target_busy
    bool offline_fail = false;
  };
  struct Target {
    std::uint32_t luns = 1;
    bool blocked = false;
    bool removed = false;
    std::uint32_t busy = 0;  // starget->target_busy
    // starget->target_blocked: set by a queuecommand that returned busy
    // (scsi_set_blocked), counted down by dispatches while the target has
    // nothing in flight, cleared by a finished command (scsi_finish_command).
    std::uint32_t target_blocked = 0;
    std::uint32_t can_queue = 113;
    std::vector<SdevState> sdev;  // per LUN
  };

  void dispatch_thread(unsigned cpu);
  void scsi_queue_rq(Request& r);
  void scsi_timeout(std::uint32_t tag);
  void scmd_eh_abort_handler(std::uint32_t tag);
  void scsi_eh_scmd_add(Request& r);
  void scsi_error_handler();
  void scsi_unjam_host();
  void queue_insert(Request& r, Duration delay);
  void retry(Request& r, Duration delay);
  void finish(Request& r, int result);
  void leave_lld(Request& r);
  void kick_stalled();
  // What scsi_queue_rq would answer a stalled request now: stalled again.
  bool still_stalled(const Request& r) const;
  // BLK_STS_RESOURCE: the request goes back to the head of its device's
  // hctx->dispatch, and the queue runs again after BLK_MQ_RESOURCE_DELAY.
  void requeue_resource(Request& r);
  // The target is busy (or the host in recovery, the device blocked): the
  // same, the device starved, run again by a completion and, with
  // `delayed_run`, after BLK_MQ_RESOURCE_DELAY.
  void requeue_starved(Request& r, bool delayed_run);
  // A run of the device's hardware queue: its hctx->dispatch first, in order.
  void run_held(std::uint32_t session, std::uint32_t lun);
  void push(std::uint32_t cpu, std::uint32_t tag, bool front);
  Disposition scsi_decide_disposition(Request& r);
  Request* find(const kern::KPtr<ScsiCmnd>& cmd);
  Request* find_stream_op(std::uint32_t stream, std::uint64_t op);
  void note_level(EhLevel level);
  bool host_in_recovery() const { return shost_recovery_ || tmf_in_progress_; }

  unsigned cpus_;
  ScsiHostTemplate tmpl_;
  TargetPin pin_target_;
  kern::Slab<ScsiCmnd> cmnds_;
  using Requests = std::map<std::uint32_t, std::unique_ptr<Request>>;
  Requests reqs_;  // by tag
  // Finished, recycled outside callbacks (recycle_finished) into spare_:
  // blk-mq's requests are preallocated with the tag set, and a Request with
  // its timers and work is built once and reused with its map node.
  std::vector<Requests::node_type> graveyard_;
  std::vector<Requests::node_type> spare_;
  void recycle_finished();
  // blk_mq_check_expired's rq->ref: a command inside the LLD's timeout
  // handler is not freed when it completes meanwhile; the last put frees it.
  std::vector<kern::KPtr<ScsiCmnd>> timeout_pinned_;
  std::vector<kern::KPtr<ScsiCmnd>> free_after_timeout_;
  bool timeout_pinned(const kern::KPtr<ScsiCmnd>& cmd) const;
  std::uint32_t next_tag_ = 1;
  std::vector<Target> targets_;
  std::vector<std::deque<std::uint32_t>> dispatch_q_;  // per CPU
  std::vector<std::unique_ptr<sc_core::sc_event>> dispatch_ev_;
  std::vector<std::uint32_t> stalled_;  // dispatch refused (blocked/recovery): rerun on kick
  // hctx->dispatch of each scsi_device's hardware queue (qedi's Scsi_Host
  // has one, so one per device): the requests a BLK_STS_RESOURCE sent back,
  // in order. While it holds any, the device's other requests wait behind
  // them, as blk-mq dispatches hctx->dispatch before the software queues.
  struct Held {
    std::deque<std::uint32_t> tags;
    std::uint32_t running = 0;  // the tag a run sent to dispatch, until scsi_queue_rq takes it (0: none)
    kern::Timer delay_run{"blk_mq_delay_run_hw_queue", {}};
  };
  std::map<std::pair<std::uint32_t, std::uint32_t>, std::unique_ptr<Held>> held_;  // by (session, lun)
  Held* held(std::uint32_t session, std::uint32_t lun);                            // null: none made yet
  Held& held_slot(std::uint32_t session, std::uint32_t lun);
  // shost->starved_list: devices whose head request found the target busy.
  std::vector<std::pair<std::uint32_t, std::uint32_t>> starved_;
  std::vector<std::unique_ptr<kern::KThread>> queue_threads_;

  // Error handling (struct Scsi_Host).
  std::uint32_t host_busy_ = 0;
  std::uint32_t host_failed_ = 0;
  bool shost_recovery_ = false;   // SHOST_RECOVERY
  bool tmf_in_progress_ = false;  // scsi_ioctl_reset
  bool eh_running_ = false;
  std::vector<std::uint32_t> eh_cmd_q_;
  kern::WaitQueue host_wait_{"host_wait"};       // EH thread and target removal waiters
  std::unique_ptr<kern::Workqueue> tmf_work_q_;  // "scsi_tmf/host0"
  std::unique_ptr<kern::KThread> eh_thread_;     // "eh/host0"
  ScsiCounters counters_;
  // kmemleak root: the outstanding requests' commands (the blk-mq tag set).
  kern::KmemleakRoot leak_roots_{this, "scsi requests", [this](kern::RefVisitor& v) {
                                   for (const auto& entry : reqs_) v(entry.second->cmd);
                                 }};
};

// The one scsi host of the model (set by the host stack), for the LLD layer's scsi_done.
ScsiHost& shost();
void set_shost(ScsiHost* h);

}  // namespace qedisim::drv
