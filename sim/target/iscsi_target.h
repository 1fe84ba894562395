// The remote iSCSI target(s) as the initiator observes them: one portal per
// scenario session, each with its LUNs. Each LUN serves up to
// target.queue_depth commands at once, later ones wait in its queue (as LIO
// queues to its backend; an iSCSI target throttles through the CmdSN
// window, not TASK SET FULL). A command's service time is drawn per command
// from a log-normal distribution with median target.latency and 99th
// percentile target.latency_p99, from a PRNG seeded by the run's seed.
// Task management is handled on arrival, target.tmf_latency after it, ahead
// of queued and in-service commands: ABORT TASK removes the task if it is
// not answered yet (FUNCTION COMPLETE) or answers TASK DOES NOT EXIST; LU
// RESET removes every unanswered task of the LUN; TARGET WARM/COLD RESET
// every task of the target. Removed tasks are never answered. The failpoints
// target.scsi_rsp, target.tmf_rsp and target.logout_rsp drop, delay or
// rewrite answers; a dropped SCSI response leaves the command outstanding
// (a hung command the target still knows), so a later ABORT TASK finds it.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <systemc>
#include <vector>

#include "common/activity.h"
#include "common/duration.h"
#include "common/flat_map.h"
#include "common/timeline.h"
#include "hba_model/timed_queue.h"
#include "hba_model/wire.h"
#include "sim/target/service_time.h"

namespace qedisim {
class FailpointHook;
}

namespace qedisim::target {

struct TargetConfig {
  Duration latency = Duration::from_us(100);      // median SCSI service time; logins, NOPs, ...
  Duration latency_p99 = Duration::from_us(100);  // <= latency: no tail
  std::uint32_t queue_depth = 64;                 // per LUN
  Duration tmf_latency = Duration::from_us(100);
  std::vector<std::uint32_t> luns_per_portal{1};
  std::uint64_t seed = 1;  // the run's seed (service-time draws)
};

struct TargetCounters {
  std::uint64_t scsi_cmds_received = 0;
  std::uint64_t scsi_rsps_sent = 0;
  std::uint64_t scsi_rsps_dropped = 0;  // target.scsi_rsp drop: command stays outstanding
  std::uint64_t scsi_rsps_delayed = 0;
  std::uint64_t itt_collisions = 0;    // a new command reused an outstanding itt
  std::uint64_t scsi_cmds_queued = 0;  // waited for a free slot of their LUN
  std::uint64_t tmfs_received = 0;
  std::uint64_t tmf_rsps_sent = 0;
  std::uint64_t tasks_aborted = 0;  // removed by ABORT TASK
  std::uint64_t tasks_reset = 0;    // removed by LU / target reset
  std::uint64_t tasks_dropped_on_close = 0;
  std::uint64_t mgmt_rsps_sent = 0;  // login, logout, text, NOP-In
  std::uint64_t pdus_for_unknown_conn = 0;
};

class IscsiTarget : public sc_core::sc_module, public hba::TargetPort {
 public:
  IscsiTarget(sc_core::sc_module_name name, const TargetConfig& cfg, FailpointHook* failpoints);

  void bind_initiator(hba::InitiatorPort& initiator) { initiator_ = &initiator; }
  // The run's seed, for a model elaborated before its seed was known.
  void reseed(std::uint64_t seed) {
    cfg_.seed = seed;
    service_.reseed(seed);
  }

  // hba::TargetPort
  void tcp_connect(std::uint16_t cid, std::uint32_t portal) override;
  void tcp_close(std::uint16_t cid, bool abortive) override;
  void pdu_to_target(const hba::IscsiPdu& pdu) override;

  // A target-initiated NOP-In ping (unsolicited, itt = ISCSI_RESERVED_TAG).
  void send_nop_in(std::uint32_t portal);

  const TargetCounters& counters() const { return counters_; }
  std::size_t outstanding(std::uint32_t portal) const;
  // No answer scheduled (held commands do not count: nothing will happen to them).
  bool idle() const { return jobs_.empty(); }
  const sc_core::sc_event& activity() const { return activity_.event(); }

 private:
  struct Cmd {
    std::uint16_t cid;
    std::uint64_t lun;
    std::uint64_t token;
    bool delayed = false;     // response already delayed once by the failpoint
    bool in_service = false;  // holds one of its LUN's queue_depth slots
    hba::IscsiPdu pdu;        // the request (for a queued command's start)
  };
  struct Lun {
    std::uint32_t in_service = 0;
    std::deque<std::pair<std::uint32_t, std::uint64_t>> waiting;  // (itt, token), FIFO
  };
  struct Portal {
    std::uint32_t luns = 1;
    // By PDU itt. Walks (close, TMF, logout) go in itt order (sorted_keys),
    // as the waiting commands they start draw their service times in that
    // order.
    FlatMap<std::uint32_t, Cmd, std::hash<std::uint32_t>> outstanding;
    std::map<std::uint64_t, Lun> lun_queues;  // by LUN
  };
  struct Job {
    enum class Kind : std::uint8_t { serve_scsi, serve_tmf, serve_mgmt, send };
    Kind kind;
    std::uint32_t portal;
    std::uint64_t token;  // serve_scsi: the command's token
    hba::IscsiPdu pdu;    // the request, or the response to send
  };

  void engine_method();
  void rearm();

  // A command takes a slot of its LUN and its service time starts.
  void start_service(std::uint32_t portal, Cmd& cmd);
  // A command leaves its slot (answered, lost, removed): the next waiting one starts.
  void release_slot(std::uint32_t portal, Cmd& cmd);
  // Removes one outstanding command (TMF, close, logout), freeing its slot.
  void remove_cmd(std::uint32_t portal, std::uint32_t itt, Cmd& cmd);
  // Removes every outstanding command of the portal for which
  // which(itt, cmd) holds, in ascending itt (the order the waiting commands
  // they free start in, each drawing a service time); returns how many.
  template <typename Which>
  std::uint64_t remove_cmds(std::uint32_t portal, Which which);
  void serve_scsi(const Job& j);
  void serve_tmf(const Job& j);
  void serve_mgmt(const Job& j);
  void send(const hba::IscsiPdu& rsp);
  void send_or_delay(std::uint32_t portal, const hba::IscsiPdu& rsp, Duration delay);
  std::optional<std::uint32_t> portal_of(std::uint16_t cid) const;

  TargetConfig cfg_;
  FailpointHook* failpoints_;
  hba::InitiatorPort* initiator_ = nullptr;
  std::vector<Portal> portals_;
  std::map<std::uint16_t, std::uint32_t> conns_;  // cid -> portal
  TimedQueue<Job> jobs_;
  std::uint64_t next_token_ = 1;
  ServiceTime service_;
  TimedEvent wake_;
  Activity activity_;
  TargetCounters counters_;
};

}  // namespace qedisim::target
