#include "host_driver_model/scsi/scsi_host.h"

#include <fmt/format.h>

#include <algorithm>
#include <stdexcept>

#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/sched.h"

namespace qedisim::drv {

namespace {
ScsiHost* g_shost = nullptr;
}  // namespace

ScsiHost& shost() {
  if (!g_shost) throw std::logic_error("scsi host used before the host stack created it");
  return *g_shost;
}
void set_shost(ScsiHost* h) { g_shost = h; }

// scsi_host_alloc + scsi_add_host + one scsi_target per session.
ScsiHost::ScsiHost(sc_core::sc_module_name name, unsigned cpus, const std::vector<std::uint32_t>& luns,
                   ScsiHostTemplate tmpl, const std::vector<std::uint32_t>& session_cmds_max)
    : sc_core::sc_module(name), cpus_(cpus == 0 ? 1 : cpus), tmpl_(std::move(tmpl)) {
  for (std::size_t i = 0; i < luns.size(); ++i) {
    const std::uint32_t n = luns[i];
    const std::uint64_t cmds_max =
        i < session_cmds_max.size() && session_cmds_max[i] ? session_cmds_max[i] : params().session_cmds_max;
    Target t;
    t.luns = n;
    // iscsi_target_alloc: starget->can_queue = session->scsi_cmds_max (cmds_max - ISCSI_MGMT_CMDS_MAX).
    t.can_queue = cmds_max > 16 ? static_cast<std::uint32_t>(cmds_max - 15) : 1;
    t.sdev.assign(n, SdevState::RUNNING);
    t.blocked = true;  // no devices before the first login unblocks the session
    targets_.push_back(std::move(t));
  }
  dispatch_q_.resize(cpus_);
  for (unsigned c = 0; c < cpus_; ++c) {
    dispatch_ev_.push_back(std::make_unique<sc_core::sc_event>());
    queue_threads_.push_back(std::make_unique<kern::KThread>(
        fmt::format("queue_cpu{}", c).c_str(), fmt::format("queue/cpu{}", c), [this, c] { dispatch_thread(c); }));
  }
  tmf_work_q_ = std::make_unique<kern::Workqueue>("scsi_tmf_host0", "scsi_tmf/host0");
  eh_thread_ = std::make_unique<kern::KThread>("eh_host0", "eh/host0", [this] { scsi_error_handler(); });
}

bool ScsiHost::quiescent() const {
  return reqs_.empty() && !tmf_work_q_->busy() && !eh_running_ && host_failed_ == 0 && !tmf_in_progress_;
}

void ScsiHost::push(std::uint32_t cpu, std::uint32_t tag, bool front) {
  auto& q = dispatch_q_[cpu % cpus_];
  // Inserting the request orders what came before it with its dispatch
  // (blk-mq's queue locks; data_race's happens-before).
  if (const auto it = reqs_.find(tag); it != reqs_.end()) kern::Kernel::hb_send(it->second.get());
  if (front)
    q.push_front(tag);
  else
    q.push_back(tag);
  dispatch_ev_[cpu % cpus_]->notify(sc_core::SC_ZERO_TIME);
}

// blk_mq_submit_bio: allocate the request and its scsi_cmnd, then dispatch on the submitting CPU.
void ScsiHost::submit(const IoRequest& rq, IoDone done) {
  const std::uint32_t tag = next_tag_++;
  // A recycled Request (recycle_finished) or, while none is spare, a new one.
  Requests::node_type node;
  std::unique_ptr<Request> fresh;
  if (!spare_.empty()) {
    node = std::move(spare_.back());
    spare_.pop_back();
    node.key() = tag;
  } else {
    fresh = std::make_unique<Request>();
  }
  Request& r = fresh ? *fresh : *node.mapped();
  r.tag = tag;
  // "s{} lun{} tag {}", formatted only if read (kern::ObjectName).
  r.cmd = cmnds_.alloc(kern::ObjectName::scsi_cmnd(rq.session, rq.lun, r.tag));
  ScsiCmnd& c = *r.cmd.raw();
  c.session = rq.session;
  c.lun = rq.lun;
  c.tag = r.tag;
  c.issue = 1;
  c.stream = static_cast<std::int32_t>(rq.stream);
  c.op_index = rq.op_index;
  c.op = rq.op;
  c.size = rq.size;
  c.cpu = rq.cpu % cpus_;
  c.owner = CmdOwner::lld;
  c.jiffies_at_alloc_ns = kern::Kernel::now_ns();
  r.done = std::move(done);
  r.cmd_timer.setup([this, tag] { scsi_timeout(tag); });
  r.requeue_timer.setup([this, tag] {
    auto it = reqs_.find(tag);
    if (it != reqs_.end()) push(it->second->cmd.raw()->cpu, tag, false);
  });
  r.abort_work.fn = [this, tag] { scmd_eh_abort_handler(tag); };
  const std::uint32_t cpu = c.cpu;
  if (fresh)
    reqs_.emplace(tag, std::move(fresh));
  else
    reqs_.insert(std::move(node));
  push(cpu, tag, false);
}

// What destroying a finished Request did, done to reuse it: its handoff
// channels (the request, its timers, its work) end, and a timer still
// armed is forgotten. Outside callbacks: one of them may be the finisher.
void ScsiHost::recycle_finished() {
  for (Requests::node_type& n : graveyard_) {
    Request& r = *n.mapped();
    if (r.abort_work.pending) continue;  // still queued: destroyed below, as without the pool
    kern::Kernel::hb_retire(&r);
    r.abort_work.reset();
    r.requeue_timer.reset();
    r.cmd_timer.reset();
    r.done = nullptr;
    r.cmd = nullptr;
    r.in_lld = false;
    r.offline_fail = false;
    spare_.push_back(std::move(n));
  }
  graveyard_.clear();
}

ScsiHost::Request* ScsiHost::find(const kern::KPtr<ScsiCmnd>& cmd) {
  const ScsiCmnd* c = cmd.raw();
  if (!c) return nullptr;
  auto it = reqs_.find(c->tag);
  if (it == reqs_.end() || it->second->cmd != cmd) return nullptr;
  return it->second.get();
}

ScsiHost::Request* ScsiHost::find_stream_op(std::uint32_t stream, std::uint64_t op) {
  for (auto& [tag, r] : reqs_) {
    const ScsiCmnd& c = *r->cmd.raw();
    if (c.stream == static_cast<std::int32_t>(stream) && c.op_index == op) return r.get();
  }
  return nullptr;
}

// One blk-mq hardware queue context per CPU ("queue/cpuN").
void ScsiHost::dispatch_thread(unsigned cpu) {
  kern::Kernel& k = kern::Kernel::get();
  kern::Context& self = k.current();
  for (;;) {
    recycle_finished();
    if (dispatch_q_[cpu].empty()) {
      k.wait_begin(self, "blk_mq_hctx", true);
      while (dispatch_q_[cpu].empty()) kern::wait_on(*dispatch_ev_[cpu]);
      k.wait_end(self, false);
    }
    const std::uint32_t tag = dispatch_q_[cpu].front();
    dispatch_q_[cpu].pop_front();
    auto it = reqs_.find(tag);
    if (it == reqs_.end()) continue;
    kern::Kernel::hb_recv(it->second.get());
    const ScsiCmnd& c = *it->second->cmd.raw();
    const std::uint32_t session = c.session, lun = c.lun;
    const kern::AbandonScope abandon;
    try {
      // __blk_mq_run_hw_queue: hctx_lock is rcu_read_lock (SCSI's hctx is not BLK_MQ_F_BLOCKING).
      kern::RcuReadLock rcu;
      scsi_queue_rq(*it->second);
    } catch (const kern::AbandonCall&) {
      // null dereference inside queuecommand: recorded; the dispatch goes on,
      // with the rest of the device's hctx->dispatch.
      abandon.unwind();
      run_held(session, lun);
    }
    kern::sched_point();
  }
}

// scsi_queue_rq: device/target/host readiness, then the template's queuecommand.
void ScsiHost::scsi_queue_rq(Request& r) {
  kern::KFunc f("scsi_queue_rq");
  counters_.queue_rq_calls++;
  ScsiCmnd& c = *r.cmd.raw();
  // A run of the device's hctx->dispatch (run_held) sent this request.
  Held* h = held(c.session, c.lun);
  const bool from_held = h && h->running == r.tag;
  if (from_held) h->running = 0;
  if (c.owner != CmdOwner::lld || r.in_lld) {
    if (from_held) run_held(c.session, c.lun);
    return;
  }
  Target& t = targets_.at(c.session);
  const SdevState st = t.removed ? SdevState::DEL : t.sdev.at(c.lun);
  if (st == SdevState::DEL || st == SdevState::OFFLINE) {
    finish(r, make_result(DID_NO_CONNECT));
    return;
  }
  if (st == SdevState::TRANSPORT_OFFLINE) {
    finish(r, make_result(DID_TRANSPORT_FAILFAST));
    return;
  }
  // blk-mq dispatches hctx->dispatch before the software queues: while the
  // device's hctx->dispatch holds requests, this one waits behind them.
  if (!from_held && h && (h->running != 0 || !h->tags.empty())) {
    kern::Kernel::hb_send(&r);  // list_splice under hctx->lock
    h->tags.push_back(r.tag);
    return;
  }
  // scsi_target_queue_ready / scsi_host_queue_ready: blocked target, host in
  // recovery (SHOST_RECOVERY or tmf_in_progress), target busy -> not now.
  // A request of the software queues waits for the next kick as it did; one
  // from hctx->dispatch goes back to its head, the device starved.
  if (t.blocked || host_in_recovery()) {
    if (from_held)
      requeue_starved(r, !t.blocked);  // a blocked device: BLK_STS_DEV_RESOURCE, no delayed run
    else
      stalled_.push_back(r.tag);
    return;
  }
  if (t.target_blocked > 0) {
    if (t.busy > 0) {  // starved: a completion runs the queue again
      requeue_starved(r, true);
      return;
    }
    if (--t.target_blocked > 0) {  // unblock after target_blocked iterates to zero
      requeue_resource(r);
      return;
    }
  }
  if (t.busy >= t.can_queue) {
    requeue_starved(r, true);
    return;
  }
  t.busy++;
  host_busy_++;
  r.in_lld = true;
  c.result = 0;
  r.cmd_timer.mod_timer(params().scsi_cmd_timeout);
  const int rtn = tmpl_.queuecommand(r.cmd);
  if (rtn == 0) {
    run_held(c.session, c.lun);  // the run goes on with the next of hctx->dispatch
    return;
  }
  // SCSI_MLQUEUE_TARGET_BUSY (libiscsi's only busy answer): scsi_set_blocked
  // (max_target_blocked, SCSI_DEFAULT_TARGET_BLOCKED), BLK_STS_RESOURCE.
  if (reqs_.count(r.tag) == 0 || !r.in_lld) return;
  r.cmd_timer.del_timer();
  leave_lld(r);
  t.target_blocked = kMaxTargetBlocked;
  requeue_resource(r);
}

ScsiHost::Held* ScsiHost::held(std::uint32_t session, std::uint32_t lun) {
  const auto it = held_.find({session, lun});
  return it == held_.end() ? nullptr : it->second.get();
}

ScsiHost::Held& ScsiHost::held_slot(std::uint32_t session, std::uint32_t lun) {
  auto& slot = held_[{session, lun}];
  if (!slot) {
    slot = std::make_unique<Held>();
    slot->delay_run.setup([this, session, lun] { run_held(session, lun); });
  }
  return *slot;
}

// blk_mq_dispatch_rq_list on BLK_STS_RESOURCE: the request back at the head
// of hctx->dispatch (blk_mq_handle_dev_resource, its timer stopped), then
// blk_mq_delay_run_hw_queue(BLK_MQ_RESOURCE_DELAY, scsi.requeue_delay). The
// kernel runs the queue at once instead when SCHED_RESTART was not set (the
// request came from a software queue); the model always waits.
void ScsiHost::requeue_resource(Request& r) {
  ScsiCmnd& c = *r.cmd.raw();
  c.owner = CmdOwner::lld;
  c.task = nullptr;
  Held& h = held_slot(c.session, c.lun);
  kern::Kernel::hb_send(&r);  // list_splice under hctx->lock
  h.tags.push_front(r.tag);
  h.delay_run.mod_timer(params().scsi_requeue_delay);
}

// scsi_target_queue_ready's `starved` (or a blocked device, a host in
// recovery): the request back at the head of hctx->dispatch and the device
// at the tail of shost->starved_list, run again by the next completion
// (scsi_run_queue -> scsi_starved_list_run) and, for BLK_STS_RESOURCE
// (`delayed_run`: not a blocked device), after BLK_MQ_RESOURCE_DELAY: the
// run that counts a target_blocked down when nothing completes.
void ScsiHost::requeue_starved(Request& r, bool delayed_run) {
  const ScsiCmnd& c = *r.cmd.raw();
  Held& h = held_slot(c.session, c.lun);
  kern::Kernel::hb_send(&r);  // list_splice under hctx->lock
  h.tags.push_front(r.tag);
  if (delayed_run) h.delay_run.mod_timer(params().scsi_requeue_delay);
  const std::pair<std::uint32_t, std::uint32_t> dev{c.session, c.lun};
  starved_.erase(std::remove(starved_.begin(), starved_.end(), dev), starved_.end());  // list_move_tail
  starved_.push_back(dev);
}

// A run of the device's hardware queue: the head of hctx->dispatch goes to
// dispatch; scsi_queue_rq sends the next once it has reached the LLD, so
// the run stops at the first refusal as blk_mq_dispatch_rq_list does.
void ScsiHost::run_held(std::uint32_t session, std::uint32_t lun) {
  Held* h = held(session, lun);
  if (!h || h->running != 0) return;
  while (!h->tags.empty()) {
    const std::uint32_t tag = h->tags.front();
    h->tags.pop_front();
    const auto r = reqs_.find(tag);
    if (r == reqs_.end()) continue;
    h->running = tag;
    push(r->second->cmd.raw()->cpu, tag, true);
    return;
  }
}

void ScsiHost::leave_lld(Request& r) {
  if (!r.in_lld) return;
  r.in_lld = false;
  Target& t = targets_.at(r.cmd.raw()->session);
  if (t.busy > 0) t.busy--;
  if (host_busy_ > 0) host_busy_--;
  host_wait_.wake_up();
  kick_stalled();
}

void ScsiHost::queue_insert(Request& r, Duration delay) {
  ScsiCmnd& c = *r.cmd.raw();
  c.owner = CmdOwner::lld;
  c.task = nullptr;
  if (delay.ns <= 0)
    push(c.cpu, r.tag, false);
  else
    r.requeue_timer.mod_timer(delay);
}

// A retry is a new issue of the same request (double_complete, docs/invariants.md).
void ScsiHost::retry(Request& r, Duration delay) {
  r.cmd.raw()->issue++;
  queue_insert(r, delay);
}

bool ScsiHost::timeout_pinned(const kern::KPtr<ScsiCmnd>& cmd) const {
  return std::find(timeout_pinned_.begin(), timeout_pinned_.end(), cmd) != timeout_pinned_.end();
}

// scsi_finish_command + blk_mq_end_request: back to the stream. The target
// may take commands again (target_blocked cleared; a request that failed
// before dispatch, which the kernel ends without scsi_finish_command, clears
// it too), and the freed request restarts its device's queue
// (blk_mq_sched_restart).
void ScsiHost::finish(Request& r, int result) {
  ScsiCmnd& c = *r.cmd.raw();
  c.owner = CmdOwner::finished;
  const std::uint32_t session = c.session, lun = c.lun;
  targets_.at(session).target_blocked = 0;
  if (Held* h = held(session, lun); h && h->running == r.tag) h->running = 0;
  c.result = result;
  r.cmd_timer.del_timer();
  r.requeue_timer.del_timer();
  if (host_byte(result) == DID_OK && (result & 0xff) == 0)
    counters_.cmds_completed++;
  else
    counters_.cmds_failed++;
  IoDone done = std::move(r.done);
  kern::KPtr<ScsiCmnd> cmd = r.cmd;
  auto node = reqs_.extract(r.tag);  // keep the Request alive while its callbacks unwind
  // blk_mq_free_request: refcount_dec_and_test(&rq->ref); the timeout
  // handler's reference, if it runs, frees it.
  if (timeout_pinned(cmd))
    free_after_timeout_.push_back(cmd);
  else
    cmnds_.free(cmd);
  host_wait_.wake_up();
  kick_stalled();
  run_held(session, lun);
  if (done) done(result);
  // Its timer or work callback may be the caller: the Request is recycled later, in a dispatch thread.
  graveyard_.push_back(std::move(node));
}

ScsiHost::Disposition ScsiHost::scsi_decide_disposition(Request& r) {
  ScsiCmnd& c = *r.cmd.raw();
  const std::uint64_t allowed = params().scsi_eh_retries;
  auto maybe_retry = [&] { return ++c.retries <= allowed ? Disposition::NEEDS_RETRY : Disposition::SUCCESS; };
  switch (host_byte(c.result)) {
    case DID_OK:
      return Disposition::SUCCESS;
    case DID_REQUEUE:
      return Disposition::ADD_TO_MLQUEUE;
    case DID_IMM_RETRY:
      return Disposition::NEEDS_RETRY;
    case DID_TRANSPORT_DISRUPTED:
    case DID_ERROR:
    case DID_BUS_BUSY:
      return maybe_retry();
    default:  // DID_ABORT, DID_NO_CONNECT, DID_TRANSPORT_FAILFAST, DID_TIME_OUT, DID_RESET
      return Disposition::SUCCESS;
  }
}

// scsi_done -> scsi_softirq_done. A command the EH owns was already marked
// complete by the timeout (SCMD_STATE_COMPLETE): the LLD's scsi_done is absorbed.
void ScsiHost::scsi_done(kern::KPtr<ScsiCmnd> cmd) {
  probes().scsi_done(cmd);
  Request* r = find(cmd);
  if (!r) return;  // finished or superseded issue: the checker judges it
  ScsiCmnd& c = *cmd.raw();
  if (c.owner != CmdOwner::lld || !r->in_lld) return;
  r->cmd_timer.del_timer();
  leave_lld(*r);
  // scsi_softirq_done: a command older than (allowed + 1) * timeout is not retried again.
  const std::int64_t wait_for = static_cast<std::int64_t>(params().scsi_eh_retries + 1) * params().scsi_cmd_timeout.ns;
  Disposition d = scsi_decide_disposition(*r);
  if (kern::Kernel::now_ns() - c.jiffies_at_alloc_ns > wait_for) d = Disposition::SUCCESS;
  switch (d) {
    case Disposition::SUCCESS:
      finish(*r, c.result);
      break;
    case Disposition::NEEDS_RETRY:
    case Disposition::ADD_TO_MLQUEUE:
      // Every requeue waits SCSI_QUEUE_DELAY: an immediate one would spin in zero simulated time.
      retry(*r, params().scsi_requeue_delay);
      break;
  }
}

// scsi_timeout (blk_mq_rq_timed_out): runs in the timer context.
void ScsiHost::scsi_timeout(std::uint32_t tag) {
  kern::KFunc f("scsi_timeout");
  auto it = reqs_.find(tag);
  if (it == reqs_.end()) return;
  Request& r = *it->second;
  ScsiCmnd& c = *r.cmd.raw();
  if (c.owner != CmdOwner::lld || !r.in_lld) return;
  kern::printk(EvSys::scsi, static_cast<std::int32_t>(c.session), "sd {}:0:0:{}: [sd] tag#{} timing out command",
               c.session, c.lun, c.tag);
  BlkEhTimerReturn rtn = BlkEhTimerReturn::DONE;
  if (tmpl_.eh_timed_out) {
    // blk_mq_check_expired: refcount_inc_not_zero(&rq->ref) - "the request
    // is now locked and cannot be reallocated underneath the timeout
    // handler's processing"; blk_mq_put_rq_ref after it.
    const kern::KPtr<ScsiCmnd> cmd = r.cmd;
    timeout_pinned_.push_back(cmd);
    {
      const kern::AbandonScope abandon;
      try {
        rtn = tmpl_.eh_timed_out(cmd);
      } catch (const kern::AbandonCall&) {
        abandon.unwind();
      }
    }
    timeout_pinned_.erase(std::find(timeout_pinned_.begin(), timeout_pinned_.end(), cmd));
    const auto deferred = std::find(free_after_timeout_.begin(), free_after_timeout_.end(), cmd);
    if (deferred != free_after_timeout_.end() && !timeout_pinned(cmd)) {
      free_after_timeout_.erase(deferred);
      cmnds_.free(cmd);
      return;  // completed meanwhile: the Request is gone
    }
  }
  if (reqs_.count(tag) == 0 || c.owner != CmdOwner::lld || !r.in_lld) return;  // completed meanwhile
  if (rtn == BlkEhTimerReturn::RESET_TIMER) {
    r.cmd_timer.mod_timer(params().scsi_cmd_timeout);
    return;
  }
  // SCMD_STATE_COMPLETE: from here the EH owns this issue. scsi_abort_command queues the abort work.
  c.owner = CmdOwner::eh;
  probes().eh_owns(r.cmd);
  tmf_work_q_->queue_work(r.abort_work);
}

bool ScsiHost::force_abort(std::uint32_t stream, std::uint64_t op_index) {
  Request* r = find_stream_op(stream, op_index);
  if (!r || !r->in_lld || r->cmd.raw()->owner != CmdOwner::lld) return false;
  r->cmd_timer.del_timer();
  r->cmd.raw()->owner = CmdOwner::eh;
  probes().eh_owns(r->cmd);
  tmf_work_q_->queue_work(r->abort_work);
  return true;
}

// scmd_eh_abort_handler on shost->tmf_work_q ("scsi_tmf/host0").
void ScsiHost::scmd_eh_abort_handler(std::uint32_t tag) {
  auto it = reqs_.find(tag);
  if (it == reqs_.end()) return;
  Request& r = *it->second;
  kern::KPtr<ScsiCmnd> cmd = r.cmd;
  kern::printk(EvSys::scsi, static_cast<std::int32_t>(cmd.raw()->session), "sd {}:0:0:{}: [sd] tag#{} aborting command",
               cmd.raw()->session, cmd.raw()->lun, cmd.raw()->tag);
  note_level(EhLevel::abort);
  probes().abort_begin(cmd);
  int rtn = FAILED;
  const kern::AbandonScope abandon;
  try {
    rtn = tmpl_.eh_abort_handler ? tmpl_.eh_abort_handler(cmd) : FAILED;
  } catch (const kern::AbandonCall&) {
    abandon.unwind();
    rtn = FAILED;
  }
  probes().abort_end(cmd, rtn == SUCCESS);
  if (reqs_.count(tag) == 0) return;
  ScsiCmnd& c = *cmd.raw();
  if (rtn == SUCCESS) {
    c.result = (c.result & ~(0xff << 16)) | make_result(DID_TIME_OUT);
    leave_lld(r);
    if (++c.retries <= params().scsi_eh_retries)
      retry(r, Duration{});  // scsi_queue_insert(SCSI_MLQUEUE_EH_RETRY)
    else
      finish(r, c.result);
    return;
  }
  c.result = (c.result & ~(0xff << 16)) | make_result(DID_TIME_OUT);
  scsi_eh_scmd_add(r);
}

// scsi_eh_scmd_add: the host enters recovery; the EH thread runs once every busy command has failed.
void ScsiHost::scsi_eh_scmd_add(Request& r) {
  kern::printk(EvSys::scsi, static_cast<std::int32_t>(r.cmd.raw()->session),
               "sd {}:0:0:{}: [sd] tag#{} scsi_eh_scmd_add: to the error handler", r.cmd.raw()->session,
               r.cmd.raw()->lun, r.tag);
  shost_recovery_ = true;
  host_failed_++;
  eh_cmd_q_.push_back(r.tag);
  host_wait_.wake_up();
}

void ScsiHost::note_level(EhLevel level) {
  if (static_cast<int>(level) > static_cast<int>(counters_.eh_max_level)) counters_.eh_max_level = level;
}

void ScsiHost::note_eh_level(kern::KPtr<ScsiCmnd> cmd, EhLevel level) {
  note_level(level);
  if (find(cmd)) probes().escalation(cmd, level);
}

// scsi_error_handler: the "eh/host0" thread.
void ScsiHost::scsi_error_handler() {
  for (;;) {
    kern::wait_event(
        host_wait_, [this] { return host_failed_ > 0 && host_failed_ == host_busy_; }, true);
    eh_running_ = true;
    {
      kern::KFunc f("scsi_error_handler");
      scsi_unjam_host();
    }
    host_failed_ = 0;
    shost_recovery_ = false;  // scsi_restart_operations
    eh_running_ = false;
    kick_stalled();
  }
}

// scsi_unjam_host -> scsi_eh_ready_devs (device, target, bus, host reset), scsi_eh_flush_done_q.
void ScsiHost::scsi_unjam_host() {
  std::vector<std::uint32_t> work_q;
  work_q.swap(eh_cmd_q_);
  std::vector<std::uint32_t> done_q;
  auto live = [this](std::uint32_t tag) { return reqs_.count(tag) != 0; };
  auto take = [&](auto pred) {
    for (auto it = work_q.begin(); it != work_q.end();) {
      if (!live(*it) || pred(*reqs_.at(*it)->cmd.raw())) {
        if (live(*it)) done_q.push_back(*it);
        it = work_q.erase(it);
      } else {
        ++it;
      }
    }
  };
  auto run = [&](const std::function<int(kern::KPtr<ScsiCmnd>)>& h, kern::KPtr<ScsiCmnd> cmd) -> int {
    if (!h) return FAILED;
    const kern::AbandonScope abandon;
    try {
      return h(cmd);
    } catch (const kern::AbandonCall&) {
      abandon.unwind();
      return FAILED;
    }
  };
  // scsi_eh_bus_device_reset: one LU reset per device with failed commands.
  std::set<std::pair<std::uint32_t, std::uint32_t>> tried_dev;
  for (std::size_t i = 0; i < work_q.size(); ++i) {
    if (!live(work_q[i])) continue;
    kern::KPtr<ScsiCmnd> cmd = reqs_.at(work_q[i])->cmd;
    const auto dev = std::make_pair(cmd.raw()->session, cmd.raw()->lun);
    if (!tried_dev.insert(dev).second) continue;
    kern::KFunc f("scsi_eh_bus_device_reset");
    kern::printk(EvSys::scsi, static_cast<std::int32_t>(dev.first), "scsi_eh_0: Sending BDR sdev: lun {}", dev.second);
    note_level(EhLevel::device);
    probes().escalation(cmd, EhLevel::device);
    if (run(tmpl_.eh_device_reset_handler, cmd) == SUCCESS) {
      take([&](const ScsiCmnd& c) { return c.session == dev.first && c.lun == dev.second; });
      i = static_cast<std::size_t>(-1);  // restart the scan over what is left
    }
  }
  // scsi_eh_target_reset: iscsi_eh_recover_target (target reset, then session reset).
  std::set<std::uint32_t> tried_tgt;
  for (std::size_t i = 0; i < work_q.size(); ++i) {
    if (!live(work_q[i])) continue;
    kern::KPtr<ScsiCmnd> cmd = reqs_.at(work_q[i])->cmd;
    const std::uint32_t s = cmd.raw()->session;
    if (!tried_tgt.insert(s).second) continue;
    kern::KFunc f("scsi_eh_target_reset");
    note_level(EhLevel::target);
    probes().escalation(cmd, EhLevel::target);
    if (run(tmpl_.eh_target_reset_handler, cmd) == SUCCESS) {
      take([&](const ScsiCmnd& c) { return c.session == s; });
      i = static_cast<std::size_t>(-1);
    }
  }
  // No bus reset handler. scsi_eh_host_reset: the iSCSI templates have none.
  if (!work_q.empty() && live(work_q.front())) {
    kern::KFunc f("scsi_eh_host_reset");
    kern::KPtr<ScsiCmnd> cmd = reqs_.at(work_q.front())->cmd;
    note_level(EhLevel::host);
    probes().escalation(cmd, EhLevel::host);
    if (run(tmpl_.eh_host_reset_handler, cmd) == SUCCESS) take([](const ScsiCmnd&) { return true; });
  }
  // scsi_eh_offline_sdevs: what is left fails and its device goes offline.
  for (std::uint32_t tag : work_q) {
    if (!live(tag)) continue;
    Request& r = *reqs_.at(tag);
    targets_.at(r.cmd.raw()->session).sdev.at(r.cmd.raw()->lun) = SdevState::OFFLINE;
    kern::printk(EvSys::scsi, static_cast<std::int32_t>(r.cmd.raw()->session),
                 "sd {}:0:0:{}: Device offlined - not ready after error recovery", r.cmd.raw()->session,
                 r.cmd.raw()->lun);
    r.offline_fail = true;
    done_q.push_back(tag);
  }
  // scsi_eh_flush_done_q: retry while allowed and the device is online, else finish.
  for (std::uint32_t tag : done_q) {
    if (!live(tag)) continue;
    Request& r = *reqs_.at(tag);
    ScsiCmnd& c = *r.cmd.raw();
    if (host_failed_ > 0) host_failed_--;
    leave_lld(r);
    const bool online = targets_.at(c.session).sdev.at(c.lun) == SdevState::RUNNING;
    if (!r.offline_fail && online && ++c.retries <= params().scsi_eh_retries)
      retry(r, Duration{});
    else
      finish(r, c.result ? c.result : make_result(DID_TIME_OUT));
  }
}

// Requests that dispatch refused go back to their queues in their order.
void ScsiHost::kick_stalled() {
  // scsi_starved_list_run: each starved device whose target has room runs
  // its queue; the others stay on the list.
  if (!starved_.empty()) {
    std::vector<std::pair<std::uint32_t, std::uint32_t>> devs;
    devs.swap(starved_);
    for (const auto& dev : devs) {
      const Target& t = targets_.at(dev.first);
      if (t.busy >= t.can_queue || t.target_blocked > 0) {  // scsi_target_is_busy
        starved_.push_back(dev);
        continue;
      }
      run_held(dev.first, dev.second);
    }
  }
  if (stalled_.empty()) return;
  // A request whose device is still quiesced (scsi_target_block) or whose
  // host is still in recovery stays where it is: scsi_queue_rq would only
  // put it back (the kernel runs no quiesced queue; a host in recovery
  // restarts them all from scsi_restart_operations).
  std::vector<std::uint32_t> s, ready;
  s.swap(stalled_);
  for (const std::uint32_t tag : s) {
    const auto r = reqs_.find(tag);
    if (r == reqs_.end()) continue;
    if (still_stalled(*r->second))
      stalled_.push_back(tag);
    else
      ready.push_back(tag);
  }
  for (auto it = ready.rbegin(); it != ready.rend(); ++it) push(reqs_.at(*it)->cmd.raw()->cpu, *it, true);
}

bool ScsiHost::still_stalled(const Request& r) const {
  const ScsiCmnd& c = *r.cmd.raw();
  if (c.owner != CmdOwner::lld || r.in_lld) return false;
  const Target& t = targets_.at(c.session);
  if (t.removed || t.sdev.at(c.lun) != SdevState::RUNNING) return false;
  const auto h = held_.find({c.session, c.lun});
  if (h != held_.end() && (h->second->running != 0 || !h->second->tags.empty())) return false;
  return t.blocked || host_in_recovery();
}

// scsi_ioctl_reset: a fake command; the host counts as in recovery (tmf_in_progress) meanwhile.
int ScsiHost::scsi_ioctl_reset(std::uint32_t session, std::uint32_t lun, ResetLevel level) {
  kern::KFunc f("scsi_ioctl_reset");
  // A removed target's devices are gone (SDEV_DEL): sg_open's
  // scsi_device_get fails, so no ioctl reaches the handlers (-ENXIO).
  if (session >= targets_.size() || targets_[session].removed) return -6;
  // The sg file the ioctl came through holds its scsi_device (sg_open's scsi_device_get).
  const std::function<void()> unpin = pin_target_ ? pin_target_(session) : nullptr;
  if (pin_target_ && !unpin) return -6;  // the session device is gone: -ENXIO
  kern::KPtr<ScsiCmnd> scmd = cmnds_.alloc(fmt::format("s{} lun{} sg_reset", session, lun));
  ScsiCmnd& c = *scmd.raw();
  c.session = session;
  c.lun = lun;
  c.stream = -1;
  c.owner = CmdOwner::eh;
  tmf_in_progress_ = true;
  auto run = [&](const std::function<int(kern::KPtr<ScsiCmnd>)>& h, EhLevel lvl) -> int {
    note_level(lvl);
    if (!h) return FAILED;
    const kern::AbandonScope abandon;
    try {
      return h(scmd);
    } catch (const kern::AbandonCall&) {
      abandon.unwind();
      return FAILED;
    }
  };
  int rtn = FAILED;
  switch (level) {
    case ResetLevel::device:
      rtn = run(tmpl_.eh_device_reset_handler, EhLevel::device);
      if (rtn == SUCCESS) break;
      [[fallthrough]];
    case ResetLevel::target:
      rtn = run(tmpl_.eh_target_reset_handler, EhLevel::target);
      if (rtn == SUCCESS) break;
      [[fallthrough]];
    case ResetLevel::host:
      rtn = run(tmpl_.eh_host_reset_handler, EhLevel::host);
      break;
  }
  tmf_in_progress_ = false;
  cmnds_.free(scmd);
  kick_stalled();  // scsi_run_host_queues
  host_wait_.wake_up();
  if (unpin) unpin();  // sg_release: scsi_device_put
  return rtn;
}

void ScsiHost::scsi_target_block(std::uint32_t session) { targets_.at(session).blocked = true; }

void ScsiHost::scsi_target_unblock(std::uint32_t session, SdevState new_state) {
  Target& t = targets_.at(session);
  t.blocked = false;
  for (auto& s : t.sdev)
    if (s == SdevState::RUNNING || s == SdevState::TRANSPORT_OFFLINE) s = new_state;
  kick_stalled();
}

void ScsiHost::scsi_remove_target(std::uint32_t session) {
  kern::KFunc f("scsi_remove_target");
  Target& t = targets_.at(session);
  t.removed = true;
  t.blocked = false;
  kick_stalled();
  kern::wait_event(host_wait_, [this, session] {
    return std::none_of(reqs_.begin(), reqs_.end(),
                        [session](const auto& kv) { return kv.second->cmd.raw()->session == session; });
  });
}

}  // namespace qedisim::drv
