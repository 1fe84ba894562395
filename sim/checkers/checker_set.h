// All invariant checkers (docs/invariants.md) behind the model's observer
// interfaces. The testbench creates one CheckerSet per run, hands it to the
// Kernel (kern::Observer / drv::DriverObserver), the HBA (hba::FwObserver)
// and the fault plumbing (FaultObserver), and calls quiescent_point at every
// quiescent point and end_of_run once. Each event goes to the checkers that
// want it. Checkers only observe: they never read the fix flags, the patch
// or the scenario, and never change model state.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hba_model/fw_probe.h"
#include "host_driver_model/probes.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/cleanup_stall.h"
#include "sim/checkers/data_race.h"
#include "sim/checkers/double_complete.h"
#include "sim/checkers/double_free.h"
#include "sim/checkers/driver_session_state.h"
#include "sim/checkers/fault_observer.h"
#include "sim/checkers/fw_orphan.h"
#include "sim/checkers/hung_task.h"
#include "sim/checkers/leak.h"
#include "sim/checkers/null_deref.h"
#include "sim/checkers/site.h"
#include "sim/checkers/sq_overwrite.h"
#include "sim/checkers/tid_double_owner.h"
#include "sim/checkers/tid_leak.h"
#include "sim/checkers/tid_shadow.h"
#include "sim/checkers/uaf.h"
#include "sim/checkers/unnecessary_escalation.h"
#include "sim/checkers/work_after_disconnect.h"
#include "sim/checkers/wrong_task_cleanup.h"
#include "sim/checkers/xmit_after_unbind.h"
#include "sim/scenario/params.h"

namespace qedisim::checkers {

class KernelSiteSource;

struct CheckerConfig {
  std::int64_t wake_slack_ns = 1'000'000;               // checker.wake_slack
  std::int64_t hung_task_timeout_ns = 120'000'000'000;  // kernel.hung_task_timeout
  std::int64_t leak_scan_interval_ns = 10'000'000'000;  // checker.leak_scan_interval
  bool data_race = true;                                // checker.data_race
  std::size_t keep_per_key = 64;  // findings kept per (id, object type, function); the rest only count

  static CheckerConfig from(const ModelParams& p);
};

class CheckerSet : public drv::DriverObserver, public hba::FwObserver, public FaultObserver {
 public:
  // `sites`: where event time and context come from; null = the simulated kernel.
  explicit CheckerSet(CheckerConfig cfg = {}, std::unique_ptr<SiteSource> sites = nullptr);
  ~CheckerSet() override;

  // The firmware's task table, read-only (fw_orphan). Optional.
  void set_firmware_tasks(const hba::FwTaskTable* tasks) { fw_tasks_ = tasks; }
  // Told each finding as it is recorded (the --log and --trace writers).
  void set_finding_listener(std::function<void(const Violation&)> f) { findings_.set_listener(std::move(f)); }
  // false: warnings are dropped, and a checker that only warns (data_race)
  // builds no finding's text (Findings::wants).
  void keep_warnings(bool keep) { findings_.keep_warnings(keep); }

  // End-state checks (tid_leak; leak's kmemleak scan, at most once per
  // checker.leak_scan_interval); also runs the hung_task clock.
  void quiescent_point(std::int64_t now_ns);
  // Once, when the run ends: end-state checks, open waits past the limit,
  // and, if the model is quiescent (no pointer only on a stack), a scan.
  void end_of_run(std::int64_t now_ns, bool quiescent);
  // Optional periodic call: reports waits blocked past the hung-task limit
  // even when no other event comes.
  void tick(std::int64_t now_ns);
  // The testbench found nothing timed pending while the run is not done:
  // hung_task's global-deadlock check.
  void no_pending_activity(std::int64_t now_ns);

  // Time order (deterministic).
  std::vector<Violation> violations() const { return findings_.violations(); }
  std::vector<Violation> warnings() const { return findings_.warnings(); }

  // ---- kern::Observer ----
  void object_allocated(const kern::ObjectHeader& h) override;
  void object_freed(const kern::ObjectHeader& h) override;
  void use_after_free(const kern::ObjectHeader& h, std::uint32_t taken_incarnation, kern::AccessKind kind,
                      std::string_view field) override;
  void double_free(const kern::ObjectHeader& h, std::uint32_t taken_incarnation) override;
  void null_deref(std::string_view owner, std::string_view field) override;
  void wait_begin(const kern::Context& ctx, std::string_view what, bool idle) override;
  void wait_end(const kern::Context& ctx, bool timed_out) override;
  void wait_condition_met(const kern::Context& waiter) override;
  void pointer_nulled(const kern::ObjectHeader& owner, std::string_view field, std::string_view pointee_type) override;
  void field_access(const kern::ObjectHeader& obj, std::uint32_t incarnation, const kern::FieldName& field,
                    kern::AccessKind kind, bool marked) override;
  void handoff_send(const void* channel) override;
  void handoff_recv(const void* channel) override;
  void handoff_retire(const void* channel) override;

  // ---- drv::DriverObserver ----
  void tid_bound(std::uint16_t tid, kern::KPtr<drv::IscsiTask> owner) override;
  void tid_cleared(std::uint16_t tid, bool ok) override;
  void tid_allocated(std::uint16_t tid) override;
  void tid_unbound(kern::KPtr<drv::IscsiTask> task, std::uint16_t tid) override;
  void cleanup_posted(std::uint16_t tid, kern::KPtr<drv::IscsiTask> meant) override;
  void abort_sent(std::uint16_t rtt_tid, kern::KPtr<drv::IscsiTask> victim) override;
  void sq_slot_written(std::uint16_t cid, std::uint32_t slot, std::uint16_t tid) override;
  void wqe_posted(kern::KPtr<drv::IscsiConn> conn, std::uint16_t tid, kern::KPtr<drv::IscsiTask> task,
                  drv::PduKind kind, bool cleanup, std::uint32_t pdu_itt) override;
  void task_ended(kern::KPtr<drv::IscsiTask> task, std::string_view how) override;
  void task_freed(kern::KPtr<drv::IscsiTask> task) override;
  void task_ref_changed(kern::KPtr<drv::IscsiTask> task, int delta, int refcount_after) override;
  void scsi_done(kern::KPtr<drv::ScsiCmnd> cmd) override;
  void eh_owns(kern::KPtr<drv::ScsiCmnd> cmd) override;
  void eh_done(kern::KPtr<drv::ScsiCmnd> cmd) override;
  void xmit_entry(kern::KPtr<drv::IscsiConn> conn, drv::PduKind kind) override;
  void unbind_returned(kern::KPtr<drv::IscsiConn> conn) override;
  void ep_disconnect_entered(kern::KPtr<drv::IscsiConn> conn) override;
  void ep_disconnect_barrier(kern::KPtr<drv::IscsiConn> conn) override;
  void ep_disconnect_returned(kern::KPtr<drv::IscsiConn> conn) override;
  void conn_started(kern::KPtr<drv::IscsiConn> conn) override;
  void conn_stopped(kern::KPtr<drv::IscsiConn> conn, StopFlag flag) override;
  void tmf_work_queued(kern::KPtr<drv::IscsiConn> conn, drv::TmfWorkKind kind, const void* work) override;
  void tmf_work_step(kern::KPtr<drv::IscsiConn> conn, drv::TmfWorkKind kind, const void* work) override;
  void tmf_work_done(kern::KPtr<drv::IscsiConn> conn, drv::TmfWorkKind kind, const void* work) override;
  void cleanup_wait_begin(kern::KPtr<drv::IscsiConn> conn, drv::CleanupWaitKind kind,
                          const std::vector<std::uint16_t>& awaited_tids, std::int64_t deadline_ns) override;
  void cleanup_cqe_handled(std::uint16_t tid) override;
  void cleanup_wait_end(kern::KPtr<drv::IscsiConn> conn, drv::CleanupWaitKind kind, bool timed_out) override;
  void cleanup_counters(kern::KPtr<drv::IscsiConn> conn, std::uint32_t req, std::uint32_t cmpl) override;
  void session_change(kern::KPtr<drv::IscsiSession> session, drv::SessionChange change,
                      std::string_view caller) override;
  void conn_failed(kern::KPtr<drv::IscsiConn> conn) override;
  void scsi_cmd_to_driver(kern::KPtr<drv::IscsiSession> session, kern::KPtr<drv::ScsiCmnd> cmd) override;
  void abort_begin(kern::KPtr<drv::ScsiCmnd> cmd) override;
  void abort_end(kern::KPtr<drv::ScsiCmnd> cmd, bool success) override;
  void escalation(kern::KPtr<drv::ScsiCmnd> cmd, EhLevel level) override;
  void alloc_failed(Gfp gfp, std::string_view site, bool could_sleep, long session) override;

  // Not a checker: counts of each TMF state transition ("QUEUED->TIMEDOUT"),
  // explore's coverage figure.
  void tmf_state_changed(drv::TmfState from, drv::TmfState to) override;
  void session_state_changed(drv::SessionState from, drv::SessionState to) override;
  const std::map<std::string, std::uint64_t>& tmf_transitions() const { return tmf_transitions_; }
  const std::map<std::string, std::uint64_t>& session_transitions() const { return session_transitions_; }

  // ---- hba::FwObserver (context "fw") ----
  void on_task_init(std::uint16_t tid, const hba::FwTask& previous, const hba::FwTask& now,
                    bool overwrote_held) override;
  void on_cleanup(std::uint16_t cid, std::uint16_t tid, const hba::FwTask& victim) override;
  void on_sq_discarded(std::uint16_t cid) override;
  void on_sq_fetched(std::uint16_t cid, std::uint32_t slot, std::uint16_t tid) override;
  void on_sq_doorbell_refused(std::uint16_t cid, std::uint32_t prod, std::uint32_t cons, std::uint32_t size) override;

  // ---- FaultObserver ----
  void fault_injected(const InjectedFault& fault) override;

 private:
  Site here() const;
  // The current context's id (LightSite::ctx_id), from the kernel without a
  // site when the source is the kernel's.
  std::uint32_t current_ctx_id() const;
  // data_race's whole access, for what DataRaceChecker::try_access leaves:
  // first sights, possible races, another site source.
  [[gnu::noinline]] void field_access_slow(const kern::ObjectHeader& obj, std::uint32_t incarnation,
                                           const kern::FieldName& field, bool write, bool marked);
  Site fw_here() const;
  Site at_context(const kern::Context& ctx) const;

  void leak_scan(std::int64_t now_ns);

  CheckerConfig cfg_;
  std::unique_ptr<SiteSource> sites_;
  const KernelSiteSource* kernel_sites_;  // sites_, when it is the kernel's: the fast paths read its current context
  const hba::FwTaskTable* fw_tasks_ = nullptr;
  Findings findings_;
  TidShadow tids_;
  std::map<std::string, const kern::Context*> contexts_;  // seen in waits, by name (deadlock chains)
  std::vector<bool> context_seen_;                        // by context id: in contexts_ already
  std::map<std::string, std::uint64_t> tmf_transitions_;
  std::map<std::string, std::uint64_t> session_transitions_;  // libiscsi session->state changes
  std::int64_t last_leak_scan_ns_ = -1;

  UafChecker uaf_;
  DoubleFreeChecker double_free_;
  NullDerefChecker null_deref_;
  LeakChecker leak_;
  DoubleCompleteChecker double_complete_;
  TidLeakChecker tid_leak_;
  TidDoubleOwnerChecker tid_double_owner_;
  WrongTaskCleanupChecker wrong_task_cleanup_;
  FwOrphanChecker fw_orphan_;
  SqOverwriteChecker sq_overwrite_;
  XmitAfterUnbindChecker xmit_after_unbind_;
  WorkAfterDisconnectChecker work_after_disconnect_;
  CleanupStallChecker cleanup_stall_;
  DriverSessionStateChecker driver_session_state_;
  DataRaceChecker data_race_;
  HungTaskChecker hung_task_;
  UnnecessaryEscalationChecker unnecessary_escalation_;
};

}  // namespace qedisim::checkers
