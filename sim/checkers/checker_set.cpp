#include "sim/checkers/checker_set.h"

#include <fmt/format.h>

#include "common/timeline.h"
#include "host_driver_model/kernel/context.h"
#include "host_driver_model/kernel/kmemleak.h"
#include "host_driver_model/kernel/lock.h"
#include "sim/checkers/kernel_site_source.h"

namespace qedisim::checkers {

namespace {
const char* session_state_word(drv::SessionState s) {
  switch (s) {
    case drv::SessionState::FREE:
      return "FREE";
    case drv::SessionState::LOGGED_IN:
      return "LOGGED_IN";
    case drv::SessionState::FAILED:
      return "FAILED";
    case drv::SessionState::TERMINATE:
      return "TERMINATE";
    case drv::SessionState::IN_RECOVERY:
      return "IN_RECOVERY";
    case drv::SessionState::RECOVERY_FAILED:
      return "RECOVERY_FAILED";
    case drv::SessionState::LOGGING_OUT:
      return "LOGGING_OUT";
  }
  return "?";
}

// The session's libiscsi state at the event, "" if it cannot be read.
const char* session_state_of(const kern::KPtr<drv::IscsiConn>& conn) {
  if (!conn.valid()) return "";
  const kern::KPtr<drv::IscsiSession>& s = conn.raw()->session;
  return s.valid() ? session_state_word(s.raw()->state) : "";
}

std::uint16_t cid_of(const kern::KPtr<drv::IscsiConn>& conn) {
  return conn.valid() ? static_cast<std::uint16_t>(conn.raw()->dd_data.iscsi_conn_id) : 0;
}
}  // namespace

CheckerConfig CheckerConfig::from(const ModelParams& p) {
  CheckerConfig c;
  c.wake_slack_ns = p.checker_wake_slack.ns;
  c.hung_task_timeout_ns = p.kernel_hung_task_timeout.ns;
  c.leak_scan_interval_ns = p.checker_leak_scan_interval.ns;
  c.data_race = p.checker_data_race != 0;
  return c;
}

CheckerSet::CheckerSet(CheckerConfig cfg, std::unique_ptr<SiteSource> sites)
    : cfg_(cfg),
      sites_(sites ? std::move(sites) : std::make_unique<KernelSiteSource>()),
      kernel_sites_(dynamic_cast<const KernelSiteSource*>(sites_.get())),
      findings_(cfg.keep_per_key),
      uaf_(findings_),
      double_free_(findings_),
      null_deref_(findings_),
      leak_(findings_),
      double_complete_(findings_),
      tid_leak_(findings_),
      tid_double_owner_(findings_),
      wrong_task_cleanup_(findings_),
      fw_orphan_(findings_),
      sq_overwrite_(findings_),
      xmit_after_unbind_(findings_),
      work_after_disconnect_(findings_),
      cleanup_stall_(findings_, cfg.wake_slack_ns),
      driver_session_state_(findings_),
      data_race_(findings_),
      hung_task_(findings_, cfg.hung_task_timeout_ns),
      unnecessary_escalation_(findings_, cfg.wake_slack_ns) {}

CheckerSet::~CheckerSet() = default;

Site CheckerSet::here() const { return sites_->site(); }

std::uint32_t CheckerSet::current_ctx_id() const {
  return kernel_sites_ ? kern::Kernel::get().current().id() : sites_->context_site().ctx_id;
}

Site CheckerSet::fw_here() const {
  static const Name fw("fw"), none("-");  // interned once: a Name built from text looks it up by hash
  return Site{sites_->now_ns(), fw, none};
}

Site CheckerSet::at_context(const kern::Context& ctx) const { return site_of(ctx, sites_->now_ns()); }

// ---- run control ----------------------------------------------------------

void CheckerSet::quiescent_point(std::int64_t now_ns) {
  tid_leak_.check(now_ns, tids_, true);
  if (last_leak_scan_ns_ < 0 || now_ns - last_leak_scan_ns_ >= cfg_.leak_scan_interval_ns) leak_scan(now_ns);
  hung_task_.tick(now_ns);
}

void CheckerSet::end_of_run(std::int64_t now_ns, bool quiescent) {
  tid_leak_.check(now_ns, tids_, quiescent);
  // A run cut off mid-call may hold pointers on a stack: no scan then.
  if (quiescent) leak_scan(now_ns);
  hung_task_.tick(now_ns);
}

void CheckerSet::leak_scan(std::int64_t now_ns) {
  last_leak_scan_ns_ = now_ns;
  leak_.judge(now_ns, kern::Kmemleak::get().scan());
}

void CheckerSet::tick(std::int64_t now_ns) { hung_task_.tick(now_ns); }

void CheckerSet::no_pending_activity(std::int64_t now_ns) {
  std::map<std::string, std::vector<std::string>> held;
  for (const auto& [name, ctx] : contexts_)
    for (const kern::Lock* l : ctx->held()) held[name].push_back(l->name());
  hung_task_.no_pending_activity(now_ns, held);
}

// ---- kern::Observer -------------------------------------------------------

void CheckerSet::object_allocated(const kern::ObjectHeader& /*h*/) {}

void CheckerSet::object_freed(const kern::ObjectHeader& /*h*/) {}

void CheckerSet::use_after_free(const kern::ObjectHeader& h, std::uint32_t inc, kern::AccessKind kind,
                                std::string_view field) {
  uaf_.use_after_free(here(), h, inc, kind, field);
}

void CheckerSet::double_free(const kern::ObjectHeader& h, std::uint32_t inc) {
  double_free_.double_free(here(), h, inc);
}

void CheckerSet::null_deref(std::string_view owner, std::string_view field) {
  null_deref_.null_deref(here(), owner, field);
}

void CheckerSet::wait_begin(const kern::Context& ctx, std::string_view what, bool idle) {
  if (ctx.id() >= context_seen_.size()) context_seen_.resize(ctx.id() + 1u, false);
  if (!context_seen_[ctx.id()]) {  // contexts live for the run: recorded once
    context_seen_[ctx.id()] = true;
    contexts_[ctx.name()] = &ctx;
  }
  hung_task_.wait_begin(at_context(ctx), what, idle);
}

void CheckerSet::wait_end(const kern::Context& ctx, bool timed_out) {
  const Site at = at_context(ctx);
  if (timed_out) {
    if (const HungTaskChecker::Wait* w = hung_task_.open_wait(at.ctx))
      unnecessary_escalation_.wait_timed_out(at, w->what, w->condition_met_ns);
  }
  hung_task_.wait_end(at, timed_out);
}

void CheckerSet::wait_condition_met(const kern::Context& waiter) { hung_task_.condition_met(at_context(waiter)); }

void CheckerSet::pointer_nulled(const kern::ObjectHeader& owner, std::string_view field,
                                std::string_view pointee_type) {
  null_deref_.pointer_nulled(here(), ref_of(owner), field, pointee_type);
}

void CheckerSet::field_access(const kern::ObjectHeader& obj, std::uint32_t inc, const kern::FieldName& field,
                              kern::AccessKind kind, bool marked) {
  if (!cfg_.data_race || (kind != kern::AccessKind::read && kind != kern::AccessKind::write)) return;
  const bool write = kind == kern::AccessKind::write;
  if (kernel_sites_) {  // almost every access: decided from data_race's tables, without a call
    const kern::Context& c = kern::Kernel::get().current();
    if (data_race_.try_access(c.id(), c.chain_key(), sim_now_ns_running(), c.function(), &obj, inc, field.id, write,
                              marked))
      return;
  }
  field_access_slow(obj, inc, field, write, marked);
}

void CheckerSet::field_access_slow(const kern::ObjectHeader& obj, std::uint32_t inc, const kern::FieldName& field,
                                   bool write, bool marked) {
  // Only what the fast path reads, straight from the kernel's context when
  // the source is the kernel's; the rest is asked of the source if needed.
  std::int64_t ns;
  std::uint32_t ctx_id, lock_chain;
  const char* fn;
  if (kernel_sites_) {
    const kern::Context& c = kern::Kernel::get().current();
    ns = kern::Kernel::now_ns();
    ctx_id = c.id();
    lock_chain = c.chain_key();
    fn = c.function();
  } else {
    const LightSite s = sites_->light_site();
    ns = s.ns;
    ctx_id = s.ctx_id;
    lock_chain = s.lock_chain;
    fn = s.fn;
  }
  data_race_.access(DataRaceChecker::AccessSite{ns, ctx_id, lock_chain, fn, *sites_}, obj, inc, field.id, field.name,
                    write, marked);
}

void CheckerSet::handoff_send(const void* channel) {
  if (cfg_.data_race) data_race_.send(current_ctx_id(), *sites_, channel);
}
void CheckerSet::handoff_retire(const void* channel) {
  if (cfg_.data_race) data_race_.retire(channel);
}
void CheckerSet::handoff_recv(const void* channel) {
  if (cfg_.data_race) data_race_.recv(current_ctx_id(), *sites_, channel);
}

// ---- tids -----------------------------------------------------------------

void CheckerSet::tid_allocated(std::uint16_t tid) { tids_.allocated(tid, here()); }

void CheckerSet::tid_bound(std::uint16_t tid, kern::KPtr<drv::IscsiTask> owner) {
  const Site at = here();
  const ObjRef task = ref_of(owner);
  tid_double_owner_.tid_bound(at, tid, task, tids_.find(tid));
  tids_.bound(tid, task, at);
}

void CheckerSet::tid_cleared(std::uint16_t tid, bool ok) {
  const Site at = here();
  double_free_.tid_cleared(at, tid, ok, tids_.find(tid));
  if (ok) tids_.cleared(tid, at);
}

void CheckerSet::tid_unbound(kern::KPtr<drv::IscsiTask> task, std::uint16_t tid) {
  tids_.unbound(ref_of(task), tid, here());
}

void CheckerSet::cleanup_posted(std::uint16_t tid, kern::KPtr<drv::IscsiTask> meant) {
  const Site at = here();
  wrong_task_cleanup_.cleanup_posted(at, tid, ref_of(meant));
  cleanup_stall_.cleanup_posted(at, tid);
}

void CheckerSet::abort_sent(std::uint16_t rtt_tid, kern::KPtr<drv::IscsiTask> victim) {
  const Site at = here();
  wrong_task_cleanup_.abort_sent(at, rtt_tid, ref_of(victim), tids_);
  unnecessary_escalation_.abort_sent(at, session_of(victim));
}

void CheckerSet::wqe_posted(kern::KPtr<drv::IscsiConn> conn, std::uint16_t tid, kern::KPtr<drv::IscsiTask> task,
                            drv::PduKind kind, bool cleanup, std::uint32_t pdu_itt) {
  const Site at = here();
  fw_orphan_.wqe_posted(at, cid_of(conn), tid, ref_of(task), pdu_itt, cleanup);
  xmit_after_unbind_.wqe_posted(at, ref_of(conn), kind, cleanup, session_state_of(conn));
}

// ---- task lifetime ---------------------------------------------------------

void CheckerSet::task_ended(kern::KPtr<drv::IscsiTask> task, std::string_view how) {
  fw_orphan_.task_end(here(), ref_of(task), how, tids_, fw_tasks_);
}

void CheckerSet::task_freed(kern::KPtr<drv::IscsiTask> task) {
  const Site at = here();
  const ObjRef t = ref_of(task);
  fw_orphan_.task_end(at, t, "freed", tids_, fw_tasks_);
  fw_orphan_.forget(t);
  tids_.task_freed(t, at);
  tids_.forget(t);
}

void CheckerSet::task_ref_changed(kern::KPtr<drv::IscsiTask> task, int, int refcount_after) {
  double_free_.task_put(here(), ref_of(task), refcount_after);
}

void CheckerSet::scsi_done(kern::KPtr<drv::ScsiCmnd> cmd) {
  const ObjRef c = ref_of(cmd);
  double_complete_.scsi_done(here(), c);
  unnecessary_escalation_.forget(c);
}

void CheckerSet::eh_owns(kern::KPtr<drv::ScsiCmnd> cmd) { double_complete_.eh_owns(here(), ref_of(cmd)); }
void CheckerSet::eh_done(kern::KPtr<drv::ScsiCmnd> cmd) { double_complete_.eh_done(here(), ref_of(cmd)); }

// ---- teardown ordering -----------------------------------------------------

void CheckerSet::xmit_entry(kern::KPtr<drv::IscsiConn> conn, drv::PduKind kind) {
  xmit_after_unbind_.xmit_entry(here(), ref_of(conn), kind, session_state_of(conn));
}

void CheckerSet::unbind_returned(kern::KPtr<drv::IscsiConn> conn) {
  xmit_after_unbind_.unbind_returned(here(), ref_of(conn));
}

void CheckerSet::ep_disconnect_entered(kern::KPtr<drv::IscsiConn> conn) {
  xmit_after_unbind_.ep_disconnect_entered(here(), ref_of(conn));
}

void CheckerSet::ep_disconnect_barrier(kern::KPtr<drv::IscsiConn> conn) {
  work_after_disconnect_.barrier(here(), ref_of(conn));
}

void CheckerSet::ep_disconnect_returned(kern::KPtr<drv::IscsiConn> conn) {
  work_after_disconnect_.returned(here(), ref_of(conn));
}

void CheckerSet::conn_started(kern::KPtr<drv::IscsiConn> conn) {
  const Site at = here();
  const ObjRef c = ref_of(conn);
  xmit_after_unbind_.conn_started(at, c);
  work_after_disconnect_.conn_started(at, c);
  driver_session_state_.conn_started(at, session_of(conn));
}

void CheckerSet::conn_stopped(kern::KPtr<drv::IscsiConn> conn, StopFlag flag) {
  driver_session_state_.conn_stopped(here(), session_of(conn), ref_of(conn), flag);
}

void CheckerSet::tmf_work_queued(kern::KPtr<drv::IscsiConn> conn, drv::TmfWorkKind kind, const void* work) {
  work_after_disconnect_.queued(here(), ref_of(conn), kind, work);
}

void CheckerSet::tmf_work_step(kern::KPtr<drv::IscsiConn> conn, drv::TmfWorkKind kind, const void* work) {
  work_after_disconnect_.step(here(), ref_of(conn), kind, work);
}

void CheckerSet::tmf_work_done(kern::KPtr<drv::IscsiConn> conn, drv::TmfWorkKind kind, const void* work) {
  work_after_disconnect_.done(here(), ref_of(conn), kind, work);
}

// ---- cleanup waits ---------------------------------------------------------

void CheckerSet::cleanup_wait_begin(kern::KPtr<drv::IscsiConn> conn, drv::CleanupWaitKind kind,
                                    const std::vector<std::uint16_t>& awaited_tids, std::int64_t deadline_ns) {
  cleanup_stall_.wait_begin(here(), ref_of(conn), session_of(conn), kind, awaited_tids, deadline_ns);
}

void CheckerSet::cleanup_cqe_handled(std::uint16_t tid) { cleanup_stall_.cqe_handled(here(), tid); }

void CheckerSet::cleanup_wait_end(kern::KPtr<drv::IscsiConn> conn, drv::CleanupWaitKind kind, bool timed_out) {
  const Site at = here();
  StalledWait stalled;
  if (cleanup_stall_.wait_end(at, ref_of(conn), kind, timed_out, stalled))
    unnecessary_escalation_.cleanup_wait_stalled(at, stalled);
}

void CheckerSet::cleanup_counters(kern::KPtr<drv::IscsiConn> conn, std::uint32_t req, std::uint32_t cmpl) {
  cleanup_stall_.counters(here(), ref_of(conn), req, cmpl);
}

// ---- session state ---------------------------------------------------------

void CheckerSet::session_change(kern::KPtr<drv::IscsiSession> session, drv::SessionChange change,
                                std::string_view caller) {
  const bool relogin_pending = session.valid() && session.raw()->relogin_pending;
  driver_session_state_.session_change(here(), session_of(session), change, caller, relogin_pending);
}

void CheckerSet::conn_failed(kern::KPtr<drv::IscsiConn> conn) {
  const Site at = here();
  const long s = session_of(conn);
  driver_session_state_.conn_failed(at, s, ref_of(conn));
  unnecessary_escalation_.conn_failed(at, s);
}

void CheckerSet::scsi_cmd_to_driver(kern::KPtr<drv::IscsiSession> session, kern::KPtr<drv::ScsiCmnd> cmd) {
  driver_session_state_.scsi_cmd_to_driver(here(), session_of(session), ref_of(cmd));
}

// ---- abort attempts --------------------------------------------------------

void CheckerSet::abort_begin(kern::KPtr<drv::ScsiCmnd> cmd) {
  const long session = cmd.valid() ? static_cast<long>(cmd.raw()->session) : -1;
  unnecessary_escalation_.abort_begin(here(), ref_of(cmd), session);
}

void CheckerSet::abort_end(kern::KPtr<drv::ScsiCmnd> cmd, bool success) {
  unnecessary_escalation_.abort_end(here(), ref_of(cmd), success);
}

void CheckerSet::escalation(kern::KPtr<drv::ScsiCmnd> cmd, EhLevel level) {
  unnecessary_escalation_.escalation(here(), ref_of(cmd), level);
}

void CheckerSet::alloc_failed(Gfp gfp, std::string_view site, bool could_sleep, long session) {
  unnecessary_escalation_.alloc_failed(here(), gfp, site, could_sleep, session);
}

void CheckerSet::tmf_state_changed(drv::TmfState from, drv::TmfState to) {
  ++tmf_transitions_[fmt::format("{}->{}", drv::tmf_state_name(from), drv::tmf_state_name(to))];
}

void CheckerSet::session_state_changed(drv::SessionState from, drv::SessionState to) {
  ++session_transitions_[fmt::format("{}->{}", drv::session_state_name(from), drv::session_state_name(to))];
}

// ---- firmware ---------------------------------------------------------------

void CheckerSet::on_task_init(std::uint16_t tid, const hba::FwTask& previous, const hba::FwTask& now,
                              bool overwrote_held) {
  fw_orphan_.fw_fetched(now.cid, tid, false);
  tid_double_owner_.fw_task_init(fw_here(), tid, previous, now, overwrote_held);
}

void CheckerSet::on_cleanup(std::uint16_t cid, std::uint16_t tid, const hba::FwTask&) {
  fw_orphan_.fw_fetched(cid, tid, true);
  wrong_task_cleanup_.fw_cleanup(fw_here(), tid, tids_);
}

void CheckerSet::on_sq_discarded(std::uint16_t cid) {
  fw_orphan_.sq_discarded(cid);
  sq_overwrite_.discarded(cid);
}

void CheckerSet::on_sq_fetched(std::uint16_t cid, std::uint32_t slot, std::uint16_t tid) {
  sq_overwrite_.slot_fetched(fw_here(), cid, slot, tid);
}

void CheckerSet::on_sq_doorbell_refused(std::uint16_t cid, std::uint32_t prod, std::uint32_t cons, std::uint32_t size) {
  sq_overwrite_.doorbell_refused(fw_here(), cid, prod, cons, size);
}

void CheckerSet::sq_slot_written(std::uint16_t cid, std::uint32_t slot, std::uint16_t tid) {
  sq_overwrite_.slot_written(here(), cid, slot, tid);
}

void CheckerSet::fault_injected(const InjectedFault& fault) { unnecessary_escalation_.fault(fault); }

}  // namespace qedisim::checkers
