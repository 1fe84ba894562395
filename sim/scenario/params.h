// Model parameters: every delay, timeout and table size of SPEC.md section 3,
// each a named value with a unit and a default. Scenario `params:` overrides
// them by dotted key; any other key is a load error.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/scenario/duration.h"

namespace qedisim {

// X(member, "dotted.key", Kind, default, "meaning")
// Kind is Duration (ns, >= 0) or Count (integer; minimum in the table below).
#define QEDISIM_PARAMS(X)                                                                                    \
  X(session_abort_timeout, "session.abort_timeout", Duration, Duration::from_s(15),                          \
    "ABORT TASK wait in iscsi_exec_task_mgmt_fn (iscsid.conf err_timeo.abort_timeout)")                      \
  X(session_lu_reset_timeout, "session.lu_reset_timeout", Duration, Duration::from_s(30),                    \
    "LU RESET wait (iscsid.conf)")                                                                           \
  X(session_tgt_reset_timeout, "session.tgt_reset_timeout", Duration, Duration::from_s(30),                  \
    "TARGET WARM RESET wait (iscsid.conf)")                                                                  \
  X(session_recovery_timeout, "session.recovery_timeout", Duration, Duration::from_s(120),                   \
    "replacement timeout, then RECOVERY_FAILED (iscsid.conf replacement_timeout)")                           \
  X(session_noop_interval, "session.noop_interval", Duration, Duration::from_s(5),                           \
    "idle time before a NOP-Out ping (iscsid.conf noop_out_interval)")                                       \
  X(session_noop_timeout, "session.noop_timeout", Duration, Duration::from_s(5),                             \
    "ping unanswered -> conn failure (iscsid.conf noop_out_timeout)")                                        \
  X(session_logout_timeout, "session.logout_timeout", Duration, Duration::from_s(15),                        \
    "Logout wait before teardown (iscsid.conf logout_timeout)")                                              \
  X(session_cmds_max, "session.cmds_max", Count, 128, "libiscsi task pool size per session")                 \
  X(session_teardown_poll, "session.teardown_poll", Duration, Duration::from_ms(50),                         \
    "iscsi_conn_teardown poll for tasks (p05)")                                                              \
  X(scsi_cmd_timeout, "scsi.cmd_timeout", Duration, Duration::from_s(30), "command timer (sd.h SD_TIMEOUT)") \
  X(scsi_eh_retries, "scsi.eh_retries", Count, 5, "retries allowed after recovery (SD_MAX_RETRIES)")         \
  X(scsi_requeue_delay, "scsi.requeue_delay", Duration, Duration::from_ms(3),                                \
    "delay before scsi-ml re-dispatches a requeued command (SCSI_QUEUE_DELAY)")                              \
  X(qedi_cleanup_wait, "qedi.cleanup_wait", Duration, Duration::from_s(5), "wait 1 in qedi_cleanup_all_io")  \
  X(qedi_drain_wait, "qedi.drain_wait", Duration, Duration::from_s(5),                                       \
    "wait 2 in qedi_cleanup_all_io, after the host-wide drain")                                              \
  X(qedi_abort_cleanup_wait, "qedi.abort_cleanup_wait", Duration, Duration::from_s(5),                       \
    "qedi_wait_for_cleanup_request")                                                                         \
  X(qedi_ep_disconnect_poll, "qedi.ep_disconnect_poll", Duration, Duration::from_s(1),                       \
    "TMF-work poll step in qedi_ep_disconnect")                                                              \
  X(qedi_ep_disconnect_max_polls, "qedi.ep_disconnect_max_polls", Count, 10,                                 \
    "poll limit in qedi_ep_disconnect before p16 (none after)")                                              \
  X(hba_tids, "hba.tids", Count, 4096, "tid bitmap size, tid 0 reserved (MAX_ISCSI_TASK_ENTRIES)")           \
  X(hba_cq_depth, "hba.cq_depth", Count, 2048, "entries per CQ (QEDI_CQ_SIZE)")                              \
  X(hba_sq_depth, "hba.sq_depth", Count, 1024, "SQ entries per connection (MAX_OUTSTANDING_TASKS_PER_CON)")  \
  X(hba_cpus, "hba.cpus", Count, 2, "CPUs = queues = MSI-X vectors = io threads")                            \
  X(fw_wqe_latency, "fw.wqe_latency", Duration, Duration::from_us(2), "doorbell to WQE on the wire")         \
  X(fw_cleanup_latency, "fw.cleanup_latency", Duration, Duration::from_us(20), "task cleanup to its CQE")    \
  X(fw_drain_latency, "fw.drain_latency", Duration, Duration::from_ms(1), "time the card drain takes")       \
  X(fw_destroy_conn_latency, "fw.destroy_conn_latency", Duration, Duration::from_ms(1),                      \
    "destroy_conn ramrod to its completion")                                                                 \
  X(target_latency, "target.latency", Duration, Duration::from_us(100), "service time per command/TMF")      \
  X(sched_jitter, "sched.jitter", Duration, Duration::from_ns(0),                                            \
    "random delay in [0, jitter] at every scheduling point")                                                 \
  X(iscsid_relogin_delay, "iscsid.relogin_delay", Duration, Duration::from_s(1),                             \
    "pause between relogin attempts during connection recovery")                                             \
  X(iscsid_login_latency, "iscsid.login_latency", Duration, Duration::from_ms(5),                            \
    "ep_connect + login + start_conn on relogin")                                                            \
  X(link_detect_time, "link.detect_time", Duration, Duration::from_ms(10),                                   \
    "link.down to the conn error reaching libiscsi")                                                         \
  X(kernel_hung_task_timeout, "kernel.hung_task_timeout", Duration, Duration::from_s(120),                   \
    "blocked-context limit for hung_task (hung_task_timeout_secs)")                                          \
  X(checker_wake_slack, "checker.wake_slack", Duration, Duration::from_ms(1),                                \
    "margin used by cleanup_stall and unnecessary_escalation")

struct ModelParams {
  using Count = std::uint64_t;
#define QEDISIM_PARAM_MEMBER(member, key, kind, def, meaning) kind member = def;
  QEDISIM_PARAMS(QEDISIM_PARAM_MEMBER)
#undef QEDISIM_PARAM_MEMBER
};

enum class ParamKind { duration, count };

struct ParamInfo {
  std::string_view key;
  ParamKind kind;
  std::string_view meaning;
  std::uint64_t min_count;  // for Count: smallest allowed value
};

// Every known key, in the order of SPEC.md section 3.
const std::vector<ParamInfo>& param_catalog();
const ParamInfo* find_param(std::string_view key);

// Setters used by the loader; the key must come from param_catalog().
void set_param(ModelParams& p, std::string_view key, Duration value);
void set_param(ModelParams& p, std::string_view key, std::uint64_t value);
// Current value of a duration parameter.
Duration duration_param(const ModelParams& p, std::string_view key);
// Current value, human form ("15s", "4096"), for `--help` and reports.
std::string param_value_string(const ModelParams& p, std::string_view key);

}  // namespace qedisim
