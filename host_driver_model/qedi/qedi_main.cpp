// Probe, interrupts, io threads, tid allocator and slow path
// (drivers/scsi/qedi/qedi_main.c, and the qed calls it makes).
#include <fmt/format.h>

#include <string>

#include "hba_model/hsi/regs.h"
#include "hba_model/hsi/ring.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/qedi/qedi.h"

namespace qedisim::drv {

using namespace hsi;

QediParams QediParams::from(const DriverParams& p, const hba::HbaParams& dev) {
  QediParams q;
  q.tids = static_cast<std::uint32_t>(dev.hba_tids);
  q.cq_depth = static_cast<std::uint32_t>(dev.hba_cq_depth);
  q.sq_depth = static_cast<std::uint32_t>(dev.hba_sq_depth);
  q.num_queues = static_cast<std::uint32_t>(dev.hba_cpus);
  q.cleanup_wait = p.qedi_cleanup_wait;
  q.drain_wait = p.qedi_drain_wait;
  q.abort_cleanup_wait = p.qedi_abort_cleanup_wait;
  q.ep_disconnect_poll = p.qedi_ep_disconnect_poll;
  q.ep_disconnect_max_polls = static_cast<std::uint32_t>(p.qedi_ep_disconnect_max_polls);
  return q;
}

Qedi::Qedi(sc_core::sc_module_name name, const QediParams& params, hba::HostMemory& mem, kern::IoMem& bar,
           kern::MsixController& irq)
    : sc_core::sc_module(name),
      params_(params),
      mem_(&mem),
      bar_(&bar),
      irq_(&irq),
      tids_(params.tids),
      itt_map_(params.tids),
      tid_flow_(params.tids),
      leak_roots_(this, "qedi", [this](kern::RefVisitor& v) {
        for (const auto& [cid, ep] : ep_tbl_) v(ep);
        for (const auto& [cid, conn] : conn_cid_tbl_) v(conn);
        for (const ItMap& m : itt_map_) v(m.p_cmd);
        for (const auto& p : percpu_)
          for (const QediWork& w : p->work_list) v(w.task);
        for (const auto& w : tmf_works_) {
          if (!w->busy && !w->work.pending) continue;
          v(w->mtask);
          v(w->conn);
        }
      }) {
  // qedi_setup_int: one fast-path vector per queue, the slow path after them.
  for (unsigned v = 0; v <= params_.num_queues; ++v) {
    irq_ctx_.push_back(std::make_unique<kern::Context>(fmt::format("irq/v{}", v)));
    irq_ctx_.back()->set_atomic();
  }
  for (unsigned v = 0; v < params_.num_queues; ++v)
    irq_->request_irq(v, [this](unsigned vec) { qedi_msix_handler(vec); });
  irq_->request_irq(params_.num_queues, [this](unsigned vec) { qedi_slowpath_handler(vec); });
  // qedi_percpu_thread_create: "qedi_thread/N", one per CPU.
  for (unsigned cpu = 0; cpu < params_.num_queues; ++cpu) {
    percpu_.push_back(std::make_unique<QediPercpu>());
    io_threads_.push_back(std::make_unique<kern::KThread>(fmt::format("qedi_thread_{}", cpu).c_str(),
                                                          fmt::format("qedi_thread/{}", cpu),
                                                          [this, cpu] { qedi_percpu_io_thread(cpu); }));
  }
  // qedi->tmf_thread = create_singlethread_workqueue (ordered, HBA-wide).
  tmf_thread_ = std::make_unique<kern::Workqueue>("tmf_wq", "tmf_wq/host0");
  probe_thread_ = std::make_unique<kern::KThread>("qedi_probe", "probe", [this] { qedi_probe_thread(); });
}

Qedi::~Qedi() = default;

bool Qedi::idle() const {
  for (const auto& p : percpu_)
    if (!p->work_list.empty() || p->running) return false;
  return !tmf_thread_->busy();
}

std::uint32_t Qedi::session_of(kern::KPtr<IscsiConn> conn) {
  const IscsiConn* c = conn.raw();
  if (!c || !c->session.raw()) return 0;
  return c->session.raw()->id;
}

// ---- probe ------------------------------------------------------------------

void Qedi::qedi_probe_thread() {
  qedi_probe();
  probed_ = true;
  probe_wait_.wake_up();
}

// qedi_probe -> qedi_alloc_global_queues, qedi_setup_int, qed start: the
// rings live in host memory and their addresses go into the card's registers.
void Qedi::qedi_probe() {
  kern::KFunc f("qedi_probe");
  const unsigned nvec = params_.num_queues;
  sb_dma_ = mem_->dma_alloc_coherent((nvec + 1) * sizeof(StatusBlock));
  task_ctx_dma_ = mem_->dma_alloc_coherent(static_cast<std::size_t>(params_.tids) * sizeof(IscsiTaskContext));
  spq_dma_ = mem_->dma_alloc_coherent(spq_size_ * sizeof(SpqEntry));
  eq_dma_ = mem_->dma_alloc_coherent(eq_size_ * sizeof(EventRingEntry));
  bar_->writeq(REG_SB_BASE, sb_dma_);
  bar_->writeq(REG_TASK_CTX_BASE, task_ctx_dma_);
  bar_->writeq(REG_SPQ_BASE, spq_dma_);
  bar_->writel(REG_SPQ_SIZE, spq_size_);
  bar_->writeq(REG_EQ_BASE, eq_dma_);
  bar_->writel(REG_EQ_SIZE, eq_size_);
  for (unsigned v = 0; v < nvec; ++v) {
    cq_dma_.push_back(mem_->dma_alloc_coherent(static_cast<std::size_t>(params_.cq_depth) * sizeof(IscsiCqe)));
    cq_cons_idx_.push_back(0);
    bar_->writeq(reg_cq(v, REG_CQ_BASE), cq_dma_.back());
    bar_->writel(reg_cq(v, REG_CQ_SIZE), params_.cq_depth);
  }
}

// ---- tid allocator and itt map ----------------------------------------------

// qedi_get_task_idx: lowest free tid (find_first_zero_bit + test_and_set_bit).
int Qedi::qedi_get_task_idx() {
  const int tid = tids_.qedi_get_task_idx();
  if (tid < 0) {
    ++counters_.task_pool_full;
    kern::printk(EvSys::qedi, -1, "qedi: FW task context pool is full");
    return -1;
  }
  probes().tid_allocated(static_cast<std::uint16_t>(tid));
  kern::emit_timeline(EvKind::counter, EvSys::qedi, "tids in use", 0, tids_.in_use());
  return tid;
}

// qedi_clear_task_idx: test_and_clear_bit; "FW task context, already cleared".
void Qedi::qedi_clear_task_idx(std::uint32_t tid) {
  kern::KFunc f("qedi_clear_task_idx");
  const bool ok = tids_.qedi_clear_task_idx(tid);
  if (!ok) ++counters_.tid_double_clear;
  if (ok)
    kern::printk(EvSys::qedi, -1, "qedi: Freeing tid=0x{:x}", tid);
  else
    kern::printk(EvSys::qedi, -1, "qedi: FW task context, already cleared, tid=0x{:x}", tid);
  probes().tid_cleared(static_cast<std::uint16_t>(tid), ok);
  kern::emit_timeline(EvKind::counter, EvSys::qedi, "tids in use", 0, tids_.in_use());
}

// qedi_update_itt_map
void Qedi::qedi_update_itt_map(std::uint32_t tid, std::uint32_t proto_itt, kern::KPtr<IscsiTask> task) {
  itt_map_[tid] = ItMap{proto_itt, task};
  probes().tid_bound(static_cast<std::uint16_t>(tid), task);
  if (kern::Kernel::events) {
    const kern::ObjectHeader* h = task.header();
    kern::printk(EvSys::qedi, static_cast<std::int32_t>(session_of(task.raw() ? task.raw()->conn : nullptr)),
                 "qedi: tid=0x{:x} for itt=0x{:x} ({})", tid, proto_itt, h ? h->describe() : "-");
    if (tid < tid_flow_.size()) {
      tid_flow_[tid] = kern::next_flow_id();
      kern::emit_timeline(EvKind::flow_out, EvSys::qedi, "doorbell -> CQE", tid_flow_[tid]);
    }
  }
}

// qedi_get_proto_itt
std::uint32_t Qedi::qedi_get_proto_itt(std::uint32_t tid) const {
  return tid < itt_map_.size() ? itt_map_[tid].itt : 0;
}

// qedi_get_cmd_from_tid: the qedi_cmd in the itt map if it still holds this
// tid (so a late CQE for a reused tid reaches the new owner); the entry is
// consumed. The slot is read as it is now, as the kernel's raw pointer would.
kern::KPtr<IscsiTask> Qedi::qedi_get_cmd_from_tid(std::uint32_t tid) {
  if (tid >= itt_map_.size() || itt_map_[tid].p_cmd.is_null()) return {};
  const kern::KPtr<IscsiTask> cmd = itt_map_[tid].p_cmd.current();
  if (cmd.raw()->dd_data.task_id != tid) return {};
  itt_map_[tid].p_cmd = nullptr;
  return cmd;
}

// ---- interrupts and io threads -------------------------------------------

namespace {
// Runs kernel code of a hard-irq handler in its own (atomic) context.
class IrqScope {
 public:
  explicit IrqScope(kern::Context& ctx) : k_(kern::Kernel::get()), prev_(&k_.current()) { k_.set_current(&ctx); }
  ~IrqScope() { k_.set_current(prev_); }
  IrqScope(const IrqScope&) = delete;
  IrqScope& operator=(const IrqScope&) = delete;

 private:
  kern::Kernel& k_;
  kern::Context* prev_;
};
}  // namespace

// qedi_msix_handler -> qedi_process_completions: mask the vector, move every
// new CQE to this CPU's io thread, write the consumer index back, unmask with
// the status-block index we saw (the card re-raises if it moved meanwhile).
void Qedi::qedi_msix_handler(unsigned vector) {
  IrqScope irq(*irq_ctx_[vector]);
  kern::KFunc f("qedi_msix_handler");
  ++counters_.interrupts;
  bar_->writel(reg_cq(vector, REG_IGU_ACK), 0);  // qed_sb_ack(IGU_INT_DISABLE)
  const auto sb = mem_->load<StatusBlock>(sb_dma_ + vector * sizeof(StatusBlock));
  const kern::AbandonScope abandon;
  try {
    qedi_process_completions(vector);
  } catch (const kern::AbandonCall&) {
    abandon.unwind();
  }
  bar_->writel(reg_cq(vector, REG_IGU_ACK), IGU_INT_ENABLE | (sb.sb_index & 0xffffu));
}

// qedi_process_completions
void Qedi::qedi_process_completions(unsigned vector) {
  kern::KFunc f("qedi_process_completions");
  const auto prod = mem_->load<StatusBlock>(sb_dma_ + vector * sizeof(StatusBlock)).cq_prod;
  std::uint32_t& cons = cq_cons_idx_[vector];
  if (cons == prod) return;
  while (cons != prod) {
    const auto cqe = mem_->load<IscsiCqe>(cq_dma_[vector] + RingIndex::slot(cons, params_.cq_depth) * sizeof(IscsiCqe));
    qedi_queue_cqe(cqe, vector);
    ++cons;
  }
  bar_->writel(reg_cq(vector, REG_CQ_CONS), cons);
  percpu_[vector]->wq.wake_up();
}

// qedi_queue_cqe: solicited CQEs are bound to their qedi_cmd here, in the
// MSI-X handler, before the io thread runs (this moves the tid-reuse window); the others get a
// GFP_ATOMIC work item the io thread frees.
void Qedi::qedi_queue_cqe(const IscsiCqe& cqe, unsigned que_idx) {
  kern::KFunc f("qedi_queue_cqe");
  QediWork w;
  w.cqe = cqe;
  w.que_idx = que_idx;
  switch (cqe.cqe_type) {
    case ISCSI_CQE_TYPE_SOLICITED:
    case ISCSI_CQE_TYPE_SOLICITED_WITH_SENSE:
      w.task = qedi_get_cmd_from_tid(cqe.itid);
      if (w.task.is_null()) {
        ++counters_.cqe_unbound;
        return;
      }
      break;
    case ISCSI_CQE_TYPE_UNSOLICITED:
    case ISCSI_CQE_TYPE_DUMMY:
    case ISCSI_CQE_TYPE_TASK_CLEANUP:
      break;
    default:
      return;
  }
  percpu_[que_idx]->work_list.push_back(w);
}

// qedi_percpu_io_thread: drains its work list in CQ order.
void Qedi::qedi_percpu_io_thread(unsigned cpu) {
  QediPercpu& p = *percpu_[cpu];
  for (;;) {
    kern::wait_event(
        p.wq, [&] { return !p.work_list.empty(); }, true);
    // A late io thread (a busy CPU): the CQE was bound to its task by tid
    // in the MSI-X handler; the conn is looked up by cid when it runs.
    kern::queue_point("qedi.io_thread.cqe", cpu);
    const QediWork work = p.work_list.front();
    p.work_list.pop_front();
    p.running = true;
    const kern::AbandonScope abandon;
    try {
      kern::KFunc f("qedi_fp_process_cqes");
      qedi_fp_process_cqes(work);
    } catch (const kern::AbandonCall&) {
      // null dereference: recorded, this CQE's processing ends (an oops in the kernel).
      abandon.unwind();
    }
    p.running = false;
    activity_.note();
  }
}

// ---- slow path ----------------------------------------------------------

// The slow-path status block carries the event ring producer (qed's EQ).
void Qedi::qedi_slowpath_handler(unsigned vector) {
  IrqScope irq(*irq_ctx_[vector]);
  kern::KFunc f("qed_int_sp_dpc");
  bar_->writel(reg_cq(vector, REG_IGU_ACK), 0);
  const auto sb = mem_->load<StatusBlock>(sb_dma_ + vector * sizeof(StatusBlock));
  if (eq_cons_ != sb.cq_prod) {
    while (eq_cons_ != sb.cq_prod) {
      const auto eqe =
          mem_->load<EventRingEntry>(eq_dma_ + RingIndex::slot(eq_cons_, eq_size_) * sizeof(EventRingEntry));
      ++eq_cons_;
      kern::Kernel::hb_recv(&spq_prod_);
      const kern::AbandonScope abandon;
      try {
        qedi_iscsi_event_cb(eqe);
      } catch (const kern::AbandonCall&) {
        abandon.unwind();
      }
    }
    bar_->writel(REG_EQ_CONS, eq_cons_);
  }
  bar_->writel(reg_cq(vector, REG_IGU_ACK), IGU_INT_ENABLE | (sb.sb_index & 0xffffu));
  activity_.note();
}

// qedi_iscsi_event_cb (qedi_main.c), plus the qed SPQ completions that the
// EBLOCK ramrods (clear_sq, drain) wait for.
void Qedi::qedi_iscsi_event_cb(const EventRingEntry& eqe) {
  kern::KFunc f("qedi_iscsi_event_cb");
  ++counters_.events;
  switch (eqe.opcode) {
    case ISCSI_EVENT_TYPE_CLEAR_SQ:
    case QED_EVENT_DRAIN_DONE:
      spq_done_.insert(eqe.echo);
      spq_wait_.wake_up();
      return;
    default:
      break;
  }
  auto it = ep_tbl_.find(eqe.cid);
  if (it == ep_tbl_.end()) return;
  kern::KPtr<QediEndpoint> ep = it->second;
  switch (eqe.opcode) {
    case ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE:
      KWR(ep, fw_return_code) = eqe.fw_return_code;
      KWR(ep, ep_state) = eqe.fw_return_code == FW_RETURN_OK ? EpState::OFLDCONN_COMPL : EpState::OFLDCONN_FAILED;
      KRD(ep, tcp_ofld_wait).wake_up();
      break;
    case ISCSI_EVENT_TYPE_ASYN_TERMINATE_DONE:
      KWR(ep, ep_state) = EpState::DISCONN_COMPL;
      KRD(ep, tcp_ofld_wait).wake_up();
      break;
    case ISCSI_EVENT_TYPE_TCP_CONN_ERROR:
      qedi_process_tcp_error(ep);
      break;
    default:
      break;
  }
}

// qedi_process_tcp_error: the offloaded TCP connection failed; libiscsi
// fails the conn and iscsid starts recovery.
void Qedi::qedi_process_tcp_error(kern::KPtr<QediEndpoint> ep) {
  kern::KFunc f("qedi_process_tcp_error");
  ++counters_.tcp_errors;
  const kern::KPtr<IscsiConn> conn = KRD(ep, conn);
  if (conn.is_null()) return;
  iscsi_conn_failure(conn, ISCSI_ERR_CONN_FAILED);
}

// qed_spq_post: one ramrod into the slow-path queue, then its doorbell.
std::uint32_t Qedi::qed_spq_post(SpqEntry e) {
  e.echo = next_echo_++;
  mem_->store(spq_dma_ + RingIndex::slot(spq_prod_, spq_size_) * sizeof(SpqEntry), e);
  ++spq_prod_;
  kern::Kernel::hb_send(&spq_prod_);  // the ramrod's doorbell -> its completion event (data_race)
  bar_->writel(REG_SPQ_PROD, spq_prod_);
  return e.echo;
}

// QED_SPQ_MODE_EBLOCK: sleep until the ramrod's completion event.
bool Qedi::qed_spq_wait(std::uint32_t echo, Duration timeout) {
  const bool ok = kern::wait_event_timeout(
                      spq_wait_, [&] { return spq_done_.count(echo) != 0; }, timeout) != 0;
  spq_done_.erase(echo);
  return ok;
}

// qedi_ops->common->drain: the MCP drains the whole card.
void Qedi::qed_drain() {
  kern::KFunc f("qed_drain");
  ++counters_.drains;
  SpqEntry e;
  e.cmd_id = QED_MCP_CMD_DRAIN;
  qed_spq_wait(qed_spq_post(e), params_.ramrod_wait);
}

// ---- hba.remove --------------------------------------------------------------

// qedi_shutdown -> __qedi_remove(QEDI_MODE_SHUTDOWN)
void Qedi::qedi_shutdown() {
  kern::KFunc f("qedi_shutdown");
  in_shutdown_ = true;  // set_bit(QEDI_IN_SHUTDOWN)
  // iscsi_host_for_each_session(qedi->shost, qedi_clear_session_ctx)
  const std::vector<kern::KPtr<IscsiSession>> sessions = driver().sessions;
  for (const auto& s : sessions)
    if (s.valid()) qedi_clear_session_ctx(s);
  // qedi_sync_free_irqs, then qedi_ops->stop: from here on no completion
  // and no firmware event (TCP error, terminate done) reaches the driver.
  for (unsigned v = 0; v <= params_.num_queues; ++v) irq_->free_irq(v);
}

}  // namespace qedisim::drv
