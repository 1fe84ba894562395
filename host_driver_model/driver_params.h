// The Linux side's parameters: iscsid.conf's session timeouts, scsi-ml's
// command timer, qedi's waits, iscsid's pacing, the scheduler's jitter and
// the kernel's hung-task limit. Keys, defaults and meanings as
// `qedisim params` prints them.
#pragma once

#include "common/params.h"

namespace qedisim::drv {

// X(member, "dotted.key", Kind, default, min, "meaning"), see common/params.h.
#define QEDISIM_DRIVER_PARAMS(X)                                                                                \
  X(session_abort_timeout, "session.abort_timeout", Duration, Duration::from_s(15), 0,                          \
    "ABORT TASK wait in iscsi_exec_task_mgmt_fn (iscsid.conf err_timeo.abort_timeout)")                         \
  X(session_lu_reset_timeout, "session.lu_reset_timeout", Duration, Duration::from_s(30), 0,                    \
    "LU RESET wait (iscsid.conf)")                                                                              \
  X(session_tgt_reset_timeout, "session.tgt_reset_timeout", Duration, Duration::from_s(30), 0,                  \
    "TARGET WARM RESET wait (iscsid.conf)")                                                                     \
  X(session_recovery_timeout, "session.recovery_timeout", Duration, Duration::from_s(120), 0,                   \
    "replacement timeout, then RECOVERY_FAILED (iscsid.conf replacement_timeout)")                              \
  X(session_noop_interval, "session.noop_interval", Duration, Duration::from_s(5), 0,                           \
    "idle time before a NOP-Out ping (iscsid.conf noop_out_interval)")                                          \
  X(session_noop_timeout, "session.noop_timeout", Duration, Duration::from_s(5), 0,                             \
    "ping unanswered -> conn failure (iscsid.conf noop_out_timeout)")                                           \
  X(session_logout_timeout, "session.logout_timeout", Duration, Duration::from_s(15), 0,                        \
    "Logout wait before teardown (iscsid.conf logout_timeout)")                                                 \
  X(session_cmds_max, "session.cmds_max", Count, 128, 1, "libiscsi task pool size per session")                 \
  X(session_teardown_poll, "session.teardown_poll", Duration, Duration::from_ms(50), 0,                         \
    "iscsi_conn_teardown poll for tasks (p05)")                                                                 \
  X(scsi_cmd_timeout, "scsi.cmd_timeout", Duration, Duration::from_s(30), 0, "command timer (sd.h SD_TIMEOUT)") \
  X(scsi_eh_retries, "scsi.eh_retries", Count, 5, 0, "retries allowed after recovery (SD_MAX_RETRIES)")         \
  X(scsi_requeue_delay, "scsi.requeue_delay", Duration, Duration::from_ms(3), 0,                                \
    "delay before scsi-ml re-dispatches a requeued command (SCSI_QUEUE_DELAY)")                                 \
  X(qedi_cleanup_wait, "qedi.cleanup_wait", Duration, Duration::from_s(5), 0, "wait 1 in qedi_cleanup_all_io")  \
  X(qedi_drain_wait, "qedi.drain_wait", Duration, Duration::from_s(5), 0,                                       \
    "wait 2 in qedi_cleanup_all_io, after the host-wide drain")                                                 \
  X(qedi_abort_cleanup_wait, "qedi.abort_cleanup_wait", Duration, Duration::from_s(5), 0,                       \
    "qedi_wait_for_cleanup_request")                                                                            \
  X(qedi_ep_disconnect_poll, "qedi.ep_disconnect_poll", Duration, Duration::from_s(1), 0,                       \
    "TMF-work poll step in qedi_ep_disconnect")                                                                 \
  X(qedi_ep_disconnect_max_polls, "qedi.ep_disconnect_max_polls", Count, 10, 0,                                 \
    "poll limit in qedi_ep_disconnect before p16 (none after)")                                                 \
  X(sched_jitter, "sched.jitter", Duration, Duration::from_ns(0), 0,                                            \
    "random delay in [0, jitter] at every scheduling point")                                                    \
  X(sched_stall, "sched.stall", Duration, Duration::from_ns(0), 0,                                              \
    "windows anywhere: longest stall of a context at a plain field access, lock acquire or wake_up (0: off)")   \
  X(sched_stall_rate, "sched.stall_rate", Count, 1000, 0,                                                       \
    "stalls per million stall points, each drawn on its own (KCSAN-style sampling)")                            \
  X(sched_stall_points, "sched.stall_points", Count, 0, 0,                                                      \
    "if > 0: exactly this many stalls, at stall points drawn from the first sched.stall_horizon (PCT-style)")   \
  X(sched_stall_horizon, "sched.stall_horizon", Count, 20000, 1,                                                \
    "stall points among which sched.stall_points are drawn")                                                    \
  X(iscsid_relogin_delay, "iscsid.relogin_delay", Duration, Duration::from_s(1), 0,                             \
    "pause between relogin attempts during connection recovery")                                                \
  X(iscsid_login_latency, "iscsid.login_latency", Duration, Duration::from_ms(5), 0,                            \
    "ep_connect + login + start_conn on relogin")                                                               \
  X(kernel_hung_task_timeout, "kernel.hung_task_timeout", Duration, Duration::from_s(120), 0,                   \
    "blocked-context limit for hung_task (hung_task_timeout_secs)")

struct DriverParams {
  QEDISIM_DRIVER_PARAMS(QEDISIM_PARAM_MEMBER)
};

}  // namespace qedisim::drv
