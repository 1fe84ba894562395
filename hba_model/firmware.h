// The qedi offload firmware as a pure state machine: register file, slow-path
// queue (offload / clear_sq / destroy_conn / drain), per-connection SQ fetch,
// task engine against the wire, cleanup engine and the completion rings.
// Time comes in with every call (ns) and future work sits in a TimedQueue
// that the SystemC shell (Hba) runs; no SystemC here, so the whole firmware
// unit-tests in one process.
#pragma once

#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <vector>

#include "common/duration.h"
#include "common/vocabulary.h"
#include "hba_model/completion_ring.h"
#include "hba_model/fw_probe.h"
#include "hba_model/fw_task_table.h"
#include "hba_model/hba_params.h"
#include "hba_model/host_bus.h"
#include "hba_model/hsi/qedi_hsi.h"
#include "hba_model/timed_queue.h"
#include "hba_model/wire.h"

namespace qedisim {
class FailpointHook;
}

namespace qedisim::hba {

struct FirmwareConfig {
  std::uint32_t tids = 4096;
  std::uint32_t vectors = 2;  // CQs = fast-path MSI-X vectors; the slow path uses index `vectors`
  Duration wqe_latency = Duration::from_us(2);
  Duration cleanup_latency = Duration::from_us(20);
  Duration drain_latency = Duration::from_ms(1);
  Duration destroy_conn_latency = Duration::from_ms(1);
  Duration link_detect_time = Duration::from_ms(10);  // link.down to the TCP error event

  static FirmwareConfig from(const HbaParams& p);
};

class Firmware {
 public:
  Firmware(const FirmwareConfig& cfg, HostBus& bus, FailpointHook* failpoints);

  void set_target(TargetPort* target) { target_ = target; }
  void set_observer(FwObserver* observer) { observer_ = observer; }

  // Bus side (BAR0). A doorbell only records the index and schedules the
  // fetch engine.
  void mmio_write(std::uint64_t offset, std::uint64_t value, std::int64_t now_ns);
  std::uint64_t mmio_read(std::uint64_t offset, std::int64_t now_ns);

  // Wire side.
  void pdu_from_target(const IscsiPdu& pdu, std::int64_t now_ns);
  // link.down / link.up of the path to target portal `portal`: every
  // offloaded connection to it stops carrying PDUs, the target forgets it
  // (RST), and link.detect_time later an ISCSI_EVENT_TYPE_TCP_CONN_ERROR
  // event per connection goes to the event ring. Offloads towards a down
  // portal fail with FW_RETURN_NO_ROUTE until link_up.
  void link_down(std::uint32_t portal, std::int64_t now_ns);
  void link_up(std::uint32_t portal, std::int64_t now_ns);
  bool link_is_down(std::uint32_t portal) const { return down_portals_.count(portal) != 0; }

  // Runs every engine step due at or before now_ns.
  void run_due(std::int64_t now_ns);
  std::optional<std::int64_t> next_due() const { return timers_.next_time(); }

  // Probes.
  const FwCounters& counters() const { return counters_; }
  const FwTaskTable& tasks() const { return tasks_; }
  std::uint32_t tids_in_use() const { return tasks_.in_use(); }
  std::uint32_t active_tasks(std::uint16_t cid) const { return tasks_.live_on(cid); }
  FwConnState conn_state(std::uint16_t cid) const;
  std::optional<std::uint32_t> conn_session(std::uint16_t cid) const;
  unsigned vectors() const { return cfg_.vectors; }
  std::uint64_t cq_occupancy(unsigned vector) const { return cqs_.at(vector).occupancy(); }
  std::size_t cq_held(unsigned vector) const { return cqs_.at(vector).held(); }
  const CompletionRing<hsi::IscsiCqe>& cq(unsigned vector) const { return cqs_.at(vector); }
  // Nothing scheduled, nothing held back, no context queued, running or cleaning.
  bool quiescent() const;

 private:
  struct FetchedWqe {
    std::uint64_t seq;
    hsi::IscsiWqe wqe;
    hsi::IscsiTaskContext ctx;
  };
  struct Conn {
    FwConnState state = FwConnState::free;
    std::uint32_t session = 0;  // target portal
    std::uint64_t sq_base = 0;
    std::uint32_t sq_size = 0;
    std::uint32_t sq_cons = 0;  // next WQE to fetch
    std::uint32_t sq_prod = 0;  // last doorbell
    std::deque<FetchedWqe> fetched;
    bool tcp_failed = false;  // link down: nothing crosses the wire any more
  };
  struct PendingCleanup {
    std::uint16_t cid;
    std::uint16_t tid;
    std::uint64_t generation;
    std::uint8_t cq;
    std::uint32_t itt;
  };
  struct DelayedCqe {
    unsigned vector;
    hsi::IscsiCqe cqe;
  };
  struct Timer {
    enum class Kind : std::uint8_t { sq_fetch, wqe_exec, cleanup_done, cqe_release, spq_fetch, ramrod_done, tcp_error };
    Kind kind;
    std::uint16_t cid;
    std::uint64_t id;  // wqe seq, pending cleanup / delayed CQE / ramrod id
  };

  void schedule(std::int64_t at_ns, Timer t) { timers_.schedule(at_ns, t); }
  Conn* conn(std::uint16_t cid);

  // Engines.
  void sq_fetch(std::uint16_t cid);                     // qedi_ring_doorbell -> fetch
  void wqe_exec(std::uint16_t cid, std::uint64_t seq);  // WQE on the wire
  void exec_task(Conn& c, const FetchedWqe& f);
  void exec_cleanup(std::uint16_t cid, Conn& c, std::uint16_t tid);
  void cleanup_done(std::uint64_t id);
  void spq_fetch();
  void ramrod(const hsi::SpqEntry& e);
  void ramrod_done(std::uint64_t id);
  void offload_conn(const hsi::SpqEntry& e);
  void clear_sq(std::uint16_t cid);
  void destroy_conn(std::uint16_t cid, bool abortive);
  void post_event(std::uint8_t opcode, std::uint16_t cid, std::uint32_t echo, std::uint8_t rc);

  // CQE path: fw.cqe failpoint, then the CQ writer.
  void emit_cqe(unsigned vector, const hsi::IscsiCqe& cqe, std::optional<std::uint32_t> session, CqeType type);
  // A held CQE is written now (its timer, or its connection's terminate).
  void release_cqe(std::map<std::uint64_t, DelayedCqe>::iterator it);
  unsigned cq_for(std::uint8_t cq_rss_number) const { return cq_rss_number % cfg_.vectors; }

  FirmwareConfig cfg_;
  HostBus* bus_;
  FailpointHook* failpoints_;
  TargetPort* target_ = nullptr;
  FwObserver* observer_ = nullptr;
  std::int64_t now_ = 0;

  // Register file.
  std::uint64_t sb_base_ = 0;
  std::uint64_t task_ctx_base_ = 0;
  std::uint64_t spq_base_ = 0;
  std::uint32_t spq_size_ = 0;
  std::uint32_t spq_prod_ = 0;
  std::uint32_t spq_cons_ = 0;

  FwTaskTable tasks_;
  std::map<std::uint16_t, Conn> conns_;
  std::vector<CompletionRing<hsi::IscsiCqe>> cqs_;
  CompletionRing<hsi::EventRingEntry> eq_;
  TimedQueue<Timer> timers_;
  std::map<std::uint64_t, PendingCleanup> pending_cleanups_;
  std::map<std::uint64_t, DelayedCqe> delayed_cqes_;
  // Per tid: when the last held CQE of that task context is released. A
  // task's later CQE (its TASK_CLEANUP after a held response) waits behind
  // it; other tasks' CQEs may pass.
  std::map<std::uint16_t, std::int64_t> tid_held_until_;
  std::map<std::uint64_t, hsi::SpqEntry> pending_ramrods_;
  std::uint64_t next_id_ = 1;
  std::set<std::uint32_t> down_portals_;
  FwCounters counters_;
};

}  // namespace qedisim::hba
