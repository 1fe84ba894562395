// Probe, interrupts and io threads (drivers/scsi/qedi/qedi_main.c).
#include <string>

#include "hba_model/hsi/regs.h"
#include "hba_model/hsi/ring.h"
#include "host_driver_model/qedi/thin/qedi_thin.h"

namespace qedisim::qedi {

using namespace hsi;

QediParams QediParams::from(const ModelParams& p) {
  QediParams q;
  q.tids = static_cast<std::uint32_t>(p.hba_tids);
  q.cq_depth = static_cast<std::uint32_t>(p.hba_cq_depth);
  q.sq_depth = static_cast<std::uint32_t>(p.hba_sq_depth);
  q.num_queues = static_cast<std::uint32_t>(p.hba_cpus);
  q.cmds_max = static_cast<std::uint32_t>(p.session_cmds_max);
  return q;
}

QediCtx::QediCtx(const QediParams& params, hba::HostMemory& mem, kernel::IoMem& bar, kernel::MsixController& irq)
    : params_(params), mem_(&mem), bar_(&bar), irq_(&irq), tids_(params.tids), itt_map_(params.tids) {
  // qedi_setup_int: one fast-path vector per queue, the slow path after them.
  for (unsigned v = 0; v < params_.num_queues; ++v)
    irq_->request_irq(v, [this](unsigned vec) { qedi_msix_handler(vec); });
  irq_->request_irq(params_.num_queues, [this](unsigned vec) { qedi_slowpath_handler(vec); });
  // qedi_percpu_thread_create: "qedi_thread/N", one per CPU.
  for (unsigned cpu = 0; cpu < params_.num_queues; ++cpu) {
    percpu_.push_back(std::make_unique<QediPercpu>());
    sc_core::sc_spawn_options opts;
    sc_core::sc_spawn([this, cpu] { qedi_percpu_io_thread(cpu); }, ("qedi_thread_" + std::to_string(cpu)).c_str(),
                      &opts);
  }
}

// qedi_probe -> qedi_alloc_global_queues, qedi_setup_int, qed start: the
// rings live in host memory and their addresses go into the card's registers.
void QediCtx::qedi_probe() {
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

bool QediCtx::idle() const {
  for (const auto& p : percpu_)
    if (!p->work_list.empty()) return false;
  for (const auto& [idx, conn] : sessions_)
    if (conn->active_cmd_count != 0 || !conn->requeue.empty()) return false;
  return true;
}

// qedi_msix_handler -> qedi_process_completions: mask the vector, move every
// new CQE to this CPU's io thread, write the consumer index back, unmask with
// the status-block index we saw (the card re-raises if it moved meanwhile).
void QediCtx::qedi_msix_handler(unsigned vector) {
  ++counters_.interrupts;
  bar_->writel(reg_cq(vector, REG_IGU_ACK), 0);  // qed_sb_ack(IGU_INT_DISABLE)
  const auto sb = mem_->load<StatusBlock>(sb_dma_ + vector * sizeof(StatusBlock));
  qedi_process_completions(vector);
  bar_->writel(reg_cq(vector, REG_IGU_ACK), IGU_INT_ENABLE | (sb.sb_index & 0xffffu));
}

void QediCtx::qedi_process_completions(unsigned vector) {
  const auto prod = mem_->load<StatusBlock>(sb_dma_ + vector * sizeof(StatusBlock)).cq_prod;
  std::uint32_t& cons = cq_cons_idx_[vector];
  if (cons == prod) return;
  while (cons != prod) {
    const auto cqe =
        mem_->load<IscsiCqe>(cq_dma_[vector] + RingIndex::slot(cons, params_.cq_depth) * sizeof(IscsiCqe));
    qedi_queue_cqe(cqe, vector);
    ++cons;
  }
  bar_->writel(reg_cq(vector, REG_CQ_CONS), cons);
  percpu_[vector]->wake.notify(sc_core::SC_ZERO_TIME);
}

// qedi_queue_cqe: the CPU that took the vector queues the work for its own
// io thread. (The full model binds solicited CQEs to their qedi_cmd here.)
void QediCtx::qedi_queue_cqe(const IscsiCqe& cqe, unsigned que_idx) {
  percpu_[que_idx]->work_list.push_back(QediWork{cqe, que_idx});
}

// qedi_percpu_io_thread: drains its work list in CQ order.
void QediCtx::qedi_percpu_io_thread(unsigned cpu) {
  QediPercpu& p = *percpu_[cpu];
  for (;;) {
    while (p.work_list.empty()) sc_core::wait(p.wake);
    const QediWork work = p.work_list.front();
    p.work_list.pop_front();
    qedi_fp_process_cqes(work);
    activity_.notify(sc_core::SC_ZERO_TIME);
  }
}

// The slow-path status block carries the event ring producer (qed's EQ).
void QediCtx::qedi_slowpath_handler(unsigned vector) {
  bar_->writel(reg_cq(vector, REG_IGU_ACK), 0);
  const auto sb = mem_->load<StatusBlock>(sb_dma_ + vector * sizeof(StatusBlock));
  if (eq_cons_ != sb.cq_prod) {
    while (eq_cons_ != sb.cq_prod) {
      const auto eqe =
          mem_->load<EventRingEntry>(eq_dma_ + RingIndex::slot(eq_cons_, eq_size_) * sizeof(EventRingEntry));
      ++eq_cons_;
      qedi_iscsi_event_cb(eqe);
    }
    bar_->writel(REG_EQ_CONS, eq_cons_);
  }
  bar_->writel(reg_cq(vector, REG_IGU_ACK), IGU_INT_ENABLE | (sb.sb_index & 0xffffu));
}

// qedi_iscsi_event_cb (qedi_main.c): offload completion wakes ep_connect.
void QediCtx::qedi_iscsi_event_cb(const EventRingEntry& eqe) {
  ++counters_.events;
  auto it = ep_tbl_.find(eqe.cid);
  if (it == ep_tbl_.end()) return;
  QediEndpoint& ep = *it->second;
  if (eqe.opcode == ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE) {
    ep.state = eqe.fw_return_code == FW_RETURN_OK ? QediEndpoint::State::offloaded : QediEndpoint::State::ofld_failed;
    ep.tcp_ofld_wait.notify(sc_core::SC_ZERO_TIME);
  }
}

// qed_spq_post: one ramrod into the slow-path queue, then its doorbell.
void QediCtx::post_ramrod(const SpqEntry& e) {
  mem_->store(spq_dma_ + RingIndex::slot(spq_prod_, spq_size_) * sizeof(SpqEntry), e);
  ++spq_prod_;
  bar_->writel(REG_SPQ_PROD, spq_prod_);
}

}  // namespace qedisim::qedi
