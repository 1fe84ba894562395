#include "hba_model/firmware.h"

#include <algorithm>
#include <stdexcept>

#include "common/failpoint_hook.h"
#include "hba_model/hsi/regs.h"

namespace qedisim::hba {

using namespace hsi;

FirmwareConfig FirmwareConfig::from(const HbaParams& p) {
  FirmwareConfig c;
  c.tids = static_cast<std::uint32_t>(p.hba_tids);
  c.vectors = static_cast<std::uint32_t>(p.hba_cpus);
  c.wqe_latency = p.fw_wqe_latency;
  c.cleanup_latency = p.fw_cleanup_latency;
  c.drain_latency = p.fw_drain_latency;
  c.destroy_conn_latency = p.fw_destroy_conn_latency;
  c.link_detect_time = p.link_detect_time;
  return c;
}

Firmware::Firmware(const FirmwareConfig& cfg, HostBus& bus, FailpointHook* failpoints)
    : cfg_(cfg), bus_(&bus), failpoints_(failpoints), tasks_(cfg.tids), eq_(bus, cfg.vectors) {
  if (cfg.vectors == 0 || cfg.vectors >= kMaxVectors) throw std::invalid_argument("hba.cpus out of range");
  if (cfg.tids > 0x10000) throw std::invalid_argument("hba.tids exceeds the 16-bit task id");
  cqs_.reserve(cfg.vectors);
  for (unsigned v = 0; v < cfg.vectors; ++v) cqs_.emplace_back(bus, v);
}

Firmware::Conn* Firmware::conn(std::uint16_t cid) {
  auto it = conns_.find(cid);
  return it == conns_.end() ? nullptr : &it->second;
}

FwConnState Firmware::conn_state(std::uint16_t cid) const {
  auto it = conns_.find(cid);
  return it == conns_.end() ? FwConnState::free : it->second.state;
}

std::optional<std::uint32_t> Firmware::conn_session(std::uint16_t cid) const {
  auto it = conns_.find(cid);
  if (it == conns_.end()) return std::nullopt;
  return it->second.session;
}

bool Firmware::quiescent() const {
  if (!timers_.empty() || tasks_.in_use() != 0 || eq_.held() != 0) return false;
  for (const auto& cq : cqs_)
    if (cq.held() != 0) return false;
  return true;
}

// ---- register file -------------------------------------------------------

void Firmware::mmio_write(std::uint64_t offset, std::uint64_t value, std::int64_t now_ns) {
  now_ = now_ns;
  const auto v32 = static_cast<std::uint32_t>(value);
  if (offset >= REG_SQ_DOORBELL && offset < REG_BAR_SIZE) {
    // qedi_ring_doorbell: the doorbell only moves the producer; fetch runs as its own step.
    const auto cid = static_cast<std::uint16_t>((offset - REG_SQ_DOORBELL) / REG_SQ_DOORBELL_STRIDE);
    Conn* c = conn(cid);
    if (!c || c->state != FwConnState::offloaded) {
      ++counters_.doorbell_errors;
      return;
    }
    // A producer behind the consumer, or further ahead than the ring holds,
    // cannot come from a well-behaved driver (two racing writers of the
    // producer index can make it go back): the doorbell is refused, never
    // fetched as a ring of stale WQEs.
    if (hsi::RingIndex::used(v32, c->sq_cons) > c->sq_size) {
      ++counters_.sq_prod_errors;
      if (observer_) observer_->on_sq_doorbell_refused(cid, v32, c->sq_cons, c->sq_size);
      return;
    }
    c->sq_prod = v32;
    schedule(now_, Timer{Timer::Kind::sq_fetch, cid, 0});
    return;
  }
  if (offset >= REG_CQ_BLOCK && offset < REG_CQ_BLOCK + kMaxVectors * REG_CQ_STRIDE) {
    const unsigned vec = static_cast<unsigned>((offset - REG_CQ_BLOCK) / REG_CQ_STRIDE);
    const std::uint64_t reg = (offset - REG_CQ_BLOCK) % REG_CQ_STRIDE;
    if (vec > cfg_.vectors) return;
    if (vec == cfg_.vectors) {  // slow-path vector: only the IGU ack lives here
      if (reg == REG_IGU_ACK) eq_.igu_ack(v32);
      return;
    }
    auto& cq = cqs_[vec];
    switch (reg) {
      case REG_CQ_BASE:
        cq.set_base(value);
        break;
      case REG_CQ_SIZE:
        cq.set_size(v32);
        break;
      case REG_CQ_CONS:
        cq.set_cons(v32);
        break;
      case REG_IGU_ACK:
        cq.igu_ack(v32);
        break;
      default:
        break;
    }
    return;
  }
  switch (offset) {
    case REG_SB_BASE:
      sb_base_ = value;
      for (unsigned v = 0; v < cfg_.vectors; ++v) cqs_[v].set_sb_addr(value + v * sizeof(StatusBlock));
      eq_.set_sb_addr(value + cfg_.vectors * sizeof(StatusBlock));
      break;
    case REG_TASK_CTX_BASE:
      task_ctx_base_ = value;
      break;
    case REG_SPQ_BASE:
      spq_base_ = value;
      break;
    case REG_SPQ_SIZE:
      spq_size_ = v32;
      break;
    case REG_SPQ_PROD:
      spq_prod_ = v32;
      schedule(now_, Timer{Timer::Kind::spq_fetch, 0, 0});
      break;
    case REG_EQ_BASE:
      eq_.set_base(value);
      break;
    case REG_EQ_SIZE:
      eq_.set_size(v32);
      break;
    case REG_EQ_CONS:
      eq_.set_cons(v32);
      break;
    case REG_DBG_DUMMY_CQE: {
      IscsiCqe cqe;
      cqe.cqe_type = ISCSI_CQE_TYPE_DUMMY;
      emit_cqe(cq_for(static_cast<std::uint8_t>(v32)), cqe, std::nullopt, CqeType::dummy);
      break;
    }
    default:
      break;
  }
}

std::uint64_t Firmware::mmio_read(std::uint64_t offset, std::int64_t now_ns) {
  now_ = now_ns;
  switch (offset) {
    case REG_FW_ID:
      return kHbaMagic;
    case REG_NUM_VECTORS:
      return cfg_.vectors;
    case REG_NUM_TIDS:
      return cfg_.tids;
    default:
      return 0;
  }
}

// ---- timed engine steps ----------------------------------------------------

void Firmware::run_due(std::int64_t now_ns) {
  now_ = now_ns;
  while (auto t = timers_.pop_due(now_ns)) {
    switch (t->kind) {
      case Timer::Kind::sq_fetch:
        sq_fetch(t->cid);
        break;
      case Timer::Kind::wqe_exec:
        wqe_exec(t->cid, t->id);
        break;
      case Timer::Kind::cleanup_done:
        cleanup_done(t->id);
        break;
      case Timer::Kind::cqe_release: {
        auto it = delayed_cqes_.find(t->id);
        if (it == delayed_cqes_.end()) break;
        release_cqe(it);
        break;
      }
      case Timer::Kind::spq_fetch:
        spq_fetch();
        break;
      case Timer::Kind::ramrod_done:
        ramrod_done(t->id);
        break;
      case Timer::Kind::tcp_error: {
        Conn* c = conn(t->cid);
        if (!c || c->state != FwConnState::offloaded || !c->tcp_failed) break;
        EventRingEntry e;
        e.opcode = ISCSI_EVENT_TYPE_TCP_CONN_ERROR;
        e.cid = t->cid;
        eq_.post(e);
        break;
      }
    }
  }
}

// SQ fetch engine: loads each new WQE and its task context, then hands it to
// the task engine fw.wqe_latency later (doorbell to WQE on the wire).
void Firmware::sq_fetch(std::uint16_t cid) {
  Conn* c = conn(cid);
  if (!c || c->state != FwConnState::offloaded) return;
  while (c->sq_cons != c->sq_prod) {
    FetchedWqe f{next_id_++, {}, {}};
    const std::uint32_t slot = RingIndex::slot(c->sq_cons, c->sq_size);
    f.wqe = bus_->dma_load<IscsiWqe>(c->sq_base + slot * sizeof(IscsiWqe));
    ++c->sq_cons;
    if (observer_) observer_->on_sq_fetched(cid, slot, f.wqe.task_id);
    ++counters_.wqes_fetched;
    const std::uint16_t tid = f.wqe.task_id;
    if (!tasks_.valid(tid)) {
      ++counters_.wqe_errors;
      continue;
    }
    if (f.wqe.wqe_type != ISCSI_WQE_TYPE_TASK_CLEANUP) {
      if (f.wqe.wqe_type != ISCSI_WQE_TYPE_NORMAL && f.wqe.wqe_type != ISCSI_WQE_TYPE_MIDDLE_PATH &&
          f.wqe.wqe_type != ISCSI_WQE_TYPE_LOGIN) {
        ++counters_.wqe_errors;
        continue;
      }
      f.ctx =
          bus_->dma_load<IscsiTaskContext>(task_ctx_base_ + static_cast<std::uint64_t>(tid) * sizeof(IscsiTaskContext));
      const auto r = tasks_.init(tid, cid, f.ctx.opcode, f.ctx.itt, f.ctx.lun, f.ctx.cq_rss_number);
      if (r.overwrote_held) ++counters_.ctx_overwrites_held;
      if (observer_) observer_->on_task_init(tid, r.previous, tasks_.at(tid), r.overwrote_held);
    }
    c->fetched.push_back(f);
    schedule(now_ + cfg_.wqe_latency.ns, Timer{Timer::Kind::wqe_exec, cid, f.seq});
  }
}

void Firmware::wqe_exec(std::uint16_t cid, std::uint64_t seq) {
  Conn* c = conn(cid);
  // clear_sq and destroy_conn empty `fetched`; their timers then find nothing.
  if (!c || c->fetched.empty() || c->fetched.front().seq != seq) return;
  const FetchedWqe f = c->fetched.front();
  c->fetched.pop_front();
  ++counters_.wqes_executed;
  if (f.wqe.wqe_type == ISCSI_WQE_TYPE_TASK_CLEANUP)
    exec_cleanup(cid, *c, f.wqe.task_id);
  else
    exec_task(*c, f);
}

void Firmware::exec_task(Conn& c, const FetchedWqe& f) {
  const std::uint16_t tid = f.wqe.task_id;
  const FwTask& t = tasks_.at(tid);
  // Cleaned (or re-initialised by another WQE) between fetch and wire.
  if (t.state != FwTaskState::queued || t.itt != f.ctx.itt) return;
  tasks_.set_state(tid, FwTaskState::active);

  IscsiPdu pdu;
  pdu.cid = t.cid;
  pdu.opcode = f.ctx.opcode;
  pdu.function = f.ctx.tmf_function;
  pdu.flags = f.ctx.flags & (TASK_FLAG_READ | TASK_FLAG_WRITE);
  pdu.itt = f.ctx.itt;
  pdu.rtt = f.ctx.rtt;
  pdu.ttt = f.ctx.ttt;
  pdu.data_length = f.ctx.data_length;
  pdu.lun = f.ctx.lun;
  if (c.tcp_failed) return;  // link down: the PDU never reaches the target
  if (f.ctx.opcode == ISCSI_OP_SCSI_CMD)
    ++counters_.scsi_cmds_sent;
  else
    ++counters_.mtasks_sent;
  if (target_) target_->pdu_to_target(pdu);

  if (f.ctx.flags & TASK_FLAG_LOCAL_COMP) {
    // qedi_process_nopin_local_cmpl: the firmware completes it, no response expected.
    tasks_.set_state(tid, FwTaskState::completed);
    IscsiCqe cqe;
    cqe.conn_id = t.cid;
    cqe.cqe_type = ISCSI_CQE_TYPE_SOLICITED;
    cqe.flags = CQE_FLAG_LOCAL_COMP;
    cqe.itid = tid;
    cqe.opcode = f.ctx.opcode;
    cqe.itt = f.ctx.itt;
    emit_cqe(cq_for(t.cq), cqe, c.session, CqeType::solicited);
  }
}

// Cleanup engine: the context is invalidated now, so a response that comes
// later is dropped; exactly one TASK_CLEANUP CQE follows after
// fw.cleanup_latency plus whatever the fw.cleanup failpoint adds.
void Firmware::exec_cleanup(std::uint16_t cid, Conn& c, std::uint16_t tid) {
  ++counters_.cleanups_requested;
  Duration extra{};
  if (failpoints_) extra = failpoints_->hit(PointEvent{"fw.cleanup", c.session, {}, {}, {}, {}, {}}).delay;
  const FwTask victim = tasks_.at(tid);
  if (observer_) observer_->on_cleanup(cid, tid, victim);
  if (fw_task_live(victim.state))
    tasks_.set_state(tid, FwTaskState::cleaning);
  else if (victim.state != FwTaskState::cleaning)
    ++counters_.cleanups_of_unheld_tid;
  const std::uint64_t id = next_id_++;
  // An idle tid never had a CQ; its cleanup completes on CQ 0.
  const std::uint8_t cq = victim.state == FwTaskState::idle ? 0 : victim.cq;
  pending_cleanups_.emplace(id, PendingCleanup{cid, tid, victim.generation, cq, victim.itt});
  schedule(now_ + cfg_.cleanup_latency.ns + extra.ns, Timer{Timer::Kind::cleanup_done, cid, id});
}

void Firmware::cleanup_done(std::uint64_t id) {
  auto it = pending_cleanups_.find(id);
  if (it == pending_cleanups_.end()) return;
  const PendingCleanup p = it->second;
  pending_cleanups_.erase(it);
  ++counters_.cleanups_completed;
  const FwTask& t = tasks_.at(p.tid);
  // A context re-initialised meanwhile belongs to its new owner: leave it be.
  if (t.generation == p.generation && t.state == FwTaskState::cleaning) tasks_.set_state(p.tid, FwTaskState::cleaned);
  IscsiCqe cqe;
  cqe.conn_id = p.cid;
  cqe.cqe_type = ISCSI_CQE_TYPE_TASK_CLEANUP;
  cqe.itid = p.tid;
  cqe.itt = p.itt;
  emit_cqe(cq_for(p.cq), cqe, conn_session(p.cid), CqeType::cleanup);
}

// ---- wire receive ---------------------------------------------------------

void Firmware::pdu_from_target(const IscsiPdu& pdu, std::int64_t now_ns) {
  now_ = now_ns;
  Conn* c = conn(pdu.cid);
  if (!c || c->state != FwConnState::offloaded || c->tcp_failed) {
    ++counters_.responses_dropped_no_conn;
    if (observer_) observer_->on_response_dropped(pdu, "connection not offloaded");
    return;
  }
  IscsiCqe cqe;
  cqe.conn_id = pdu.cid;
  cqe.opcode = pdu.opcode;
  cqe.response = pdu.response;
  cqe.scsi_status = pdu.scsi_status;
  cqe.itt = pdu.itt;
  cqe.ttt = pdu.ttt;

  const bool unsolicited = pdu.itt == ISCSI_RESERVED_TAG || pdu.opcode == ISCSI_OP_ASYNC_EVENT;
  if (unsolicited) {
    // Target NOP-In pings and async messages have no task; they go to CQ 0.
    cqe.cqe_type = ISCSI_CQE_TYPE_UNSOLICITED;
    emit_cqe(0, cqe, c->session, CqeType::unsolicited);
    return;
  }
  const std::uint16_t tid = qedi_get_itt_tid(pdu.itt);
  const bool known = tasks_.valid(tid) && tasks_.at(tid).cid == pdu.cid && tasks_.at(tid).itt == pdu.itt;
  if (!known || tasks_.at(tid).state != FwTaskState::active) {
    const bool invalidated =
        known && (tasks_.at(tid).state == FwTaskState::cleaning || tasks_.at(tid).state == FwTaskState::cleaned);
    if (invalidated)
      ++counters_.responses_dropped_invalidated;
    else
      ++counters_.responses_dropped_unmatched;
    if (observer_) observer_->on_response_dropped(pdu, invalidated ? "task cleaned up" : "no such task");
    return;
  }
  const FwTask& t = tasks_.at(tid);
  tasks_.set_state(tid, FwTaskState::completed);
  ++counters_.responses_delivered;
  cqe.itid = tid;
  cqe.cqe_type =
      pdu.scsi_status == SAM_STAT_CHECK_CONDITION ? ISCSI_CQE_TYPE_SOLICITED_WITH_SENSE : ISCSI_CQE_TYPE_SOLICITED;
  emit_cqe(cq_for(t.cq), cqe, c->session, CqeType::solicited);
}

void Firmware::release_cqe(std::map<std::uint64_t, DelayedCqe>::iterator it) {
  const DelayedCqe d = it->second;
  delayed_cqes_.erase(it);
  if (std::none_of(delayed_cqes_.begin(), delayed_cqes_.end(),
                   [&](const auto& e) { return e.second.cqe.itid == d.cqe.itid; }))
    tid_held_until_.erase(d.cqe.itid);
  if (observer_) observer_->on_cqe(d.vector, d.cqe);
  cqs_[d.vector].post(d.cqe);
}

void Firmware::emit_cqe(unsigned vector, const IscsiCqe& cqe, std::optional<std::uint32_t> session, CqeType type) {
  ++counters_.cqes_posted;
  Duration delay{};
  if (failpoints_) delay = failpoints_->hit(PointEvent{"fw.cqe", session, {}, {}, type, {}, {}, vector}).delay;
  if (delay.ns > 0) ++counters_.cqes_delayed;
  // The firmware writes one task's CQEs in order: a CQE of a task context
  // whose earlier CQE is still held (its TASK_CLEANUP after a held
  // response) is released after it, at the same time in insertion order.
  std::int64_t at = now_ + delay.ns;
  const bool has_tid = type == CqeType::solicited || type == CqeType::cleanup;
  if (has_tid)
    if (const auto it = tid_held_until_.find(cqe.itid); it != tid_held_until_.end()) at = std::max(at, it->second);
  if (at > now_) {
    if (has_tid) tid_held_until_[cqe.itid] = at;
    const std::uint64_t id = next_id_++;
    delayed_cqes_.emplace(id, DelayedCqe{vector, cqe});
    schedule(at, Timer{Timer::Kind::cqe_release, cqe.conn_id, id});
    return;
  }
  if (observer_) observer_->on_cqe(vector, cqe);
  cqs_[vector].post(cqe);
}

// ---- slow path ------------------------------------------------------------

void Firmware::spq_fetch() {
  if (spq_base_ == 0 || spq_size_ == 0) return;
  while (spq_cons_ != spq_prod_) {
    const auto e = bus_->dma_load<SpqEntry>(spq_base_ + RingIndex::slot(spq_cons_, spq_size_) * sizeof(SpqEntry));
    ++spq_cons_;
    ramrod(e);
  }
}

void Firmware::ramrod(const SpqEntry& e) {
  switch (e.cmd_id) {
    case ISCSI_RAMROD_CMD_ID_OFFLOAD_CONN:
      offload_conn(e);
      return;
    case ISCSI_RAMROD_CMD_ID_CLEAR_SQ:
      clear_sq(e.cid);
      post_event(ISCSI_EVENT_TYPE_CLEAR_SQ, e.cid, e.echo, conn(e.cid) ? FW_RETURN_OK : FW_RETURN_INVALID_CID);
      return;
    case ISCSI_RAMROD_CMD_ID_TERMINATION_CONN: {
      Conn* c = conn(e.cid);
      if (!c || c->state != FwConnState::offloaded) {
        post_event(ISCSI_EVENT_TYPE_ASYN_TERMINATE_DONE, e.cid, e.echo, FW_RETURN_INVALID_CID);
        return;
      }
      c->state = FwConnState::terminating;
      const std::uint64_t id = next_id_++;
      pending_ramrods_.emplace(id, e);
      schedule(now_ + cfg_.destroy_conn_latency.ns, Timer{Timer::Kind::ramrod_done, e.cid, id});
      return;
    }
    case QED_MCP_CMD_DRAIN: {
      const std::uint64_t id = next_id_++;
      pending_ramrods_.emplace(id, e);
      schedule(now_ + cfg_.drain_latency.ns, Timer{Timer::Kind::ramrod_done, 0, id});
      return;
    }
    default:
      ++counters_.wqe_errors;
      return;
  }
}

void Firmware::ramrod_done(std::uint64_t id) {
  auto it = pending_ramrods_.find(id);
  if (it == pending_ramrods_.end()) return;
  const SpqEntry e = it->second;
  pending_ramrods_.erase(it);
  if (e.cmd_id == ISCSI_RAMROD_CMD_ID_TERMINATION_CONN) {
    destroy_conn(e.cid, (e.flags & SPQ_FLAG_ABORTIVE) != 0);
    post_event(ISCSI_EVENT_TYPE_ASYN_TERMINATE_DONE, e.cid, e.echo, FW_RETURN_OK);
  } else {
    // The drain only takes time here: in-flight cleanups and held CQEs keep
    // their own schedule (what a real drain does to them is left open).
    post_event(QED_EVENT_DRAIN_DONE, e.cid, e.echo, FW_RETURN_OK);
  }
}

void Firmware::offload_conn(const SpqEntry& e) {
  Conn* existing = conn(e.cid);
  if (e.cid >= kMaxConns || e.sq_base == 0 || e.sq_size == 0) {
    post_event(ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE, e.cid, e.echo, FW_RETURN_INVALID_CID);
    return;
  }
  if (existing && (existing->state == FwConnState::offloaded || existing->state == FwConnState::terminating)) {
    post_event(ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE, e.cid, e.echo, FW_RETURN_CONN_BUSY);
    return;
  }
  if (down_portals_.count(e.target_portal)) {
    post_event(ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE, e.cid, e.echo, FW_RETURN_NO_ROUTE);
    return;
  }
  Conn c;
  c.state = FwConnState::offloaded;
  c.session = e.target_portal;
  c.sq_base = e.sq_base;
  c.sq_size = e.sq_size;
  conns_[e.cid] = c;
  if (target_) target_->tcp_connect(e.cid, e.target_portal);
  post_event(ISCSI_EVENT_TYPE_ASYN_CONNECT_COMPLETE, e.cid, e.echo, FW_RETURN_OK);
}

// clear_sq: WQEs fetched but not yet on the wire are flushed, unfetched ones
// skipped. Tasks already waiting on the target stay until cleaned.
void Firmware::clear_sq(std::uint16_t cid) {
  Conn* c = conn(cid);
  if (!c) return;
  for (const auto& f : c->fetched) {
    if (f.wqe.wqe_type == ISCSI_WQE_TYPE_TASK_CLEANUP) continue;
    const FwTask& t = tasks_.at(f.wqe.task_id);
    if (t.state == FwTaskState::queued && t.cid == cid) {
      tasks_.set_state(f.wqe.task_id, FwTaskState::flushed);
      ++counters_.tasks_flushed;
    }
  }
  c->fetched.clear();
  c->sq_cons = c->sq_prod;
  if (observer_) observer_->on_sq_discarded(cid);
}

// destroy_conn: every context of the connection still live is dropped and
// the target forgets the connection; later responses for it are dropped.
void Firmware::destroy_conn(std::uint16_t cid, bool abortive) {
  Conn* c = conn(cid);
  if (!c) return;
  c->fetched.clear();
  // Terminating the connection completes its pending cleanups and writes
  // its held CQEs first, in the order they were emitted: no CQE of it is
  // written after the terminate, with a cid or tid that the next
  // connection may own.
  std::vector<std::uint64_t> cleanups;
  for (const auto& [id, p] : pending_cleanups_)
    if (p.cid == cid) cleanups.push_back(id);
  for (const std::uint64_t id : cleanups) cleanup_done(id);
  for (auto it = delayed_cqes_.begin(); it != delayed_cqes_.end();) {
    const auto next = std::next(it);
    if (it->second.cqe.conn_id == cid) release_cqe(it);
    it = next;
  }
  // It flushes every context of it, those still being cleaned too: the
  // driver may reuse their tids on the next conn.
  for (std::uint32_t tid = 1; tid < tasks_.size() && tasks_.held_on(cid) != 0; ++tid) {
    const FwTask& t = tasks_.at(static_cast<std::uint16_t>(tid));
    if (t.cid == cid && fw_task_held(t.state)) {
      tasks_.set_state(static_cast<std::uint16_t>(tid), FwTaskState::dropped);
      ++counters_.tasks_dropped;
    }
  }
  c->state = FwConnState::terminated;
  if (observer_) observer_->on_sq_discarded(cid);
  if (target_ && !c->tcp_failed) target_->tcp_close(cid, abortive);
}

void Firmware::link_down(std::uint32_t portal, std::int64_t now_ns) {
  now_ = now_ns;
  if (!down_portals_.insert(portal).second) return;
  for (auto& [cid, c] : conns_) {
    if (c.state != FwConnState::offloaded || c.session != portal || c.tcp_failed) continue;
    c.tcp_failed = true;
    if (target_) target_->tcp_close(cid, true);
    schedule(now_ + cfg_.link_detect_time.ns, Timer{Timer::Kind::tcp_error, cid, 0});
  }
}

void Firmware::link_up(std::uint32_t portal, std::int64_t now_ns) {
  now_ = now_ns;
  down_portals_.erase(portal);
}

void Firmware::post_event(std::uint8_t opcode, std::uint16_t cid, std::uint32_t echo, std::uint8_t rc) {
  ++counters_.ramrods_completed;
  EventRingEntry e;
  e.opcode = opcode;
  e.fw_return_code = rc;
  e.cid = cid;
  e.echo = echo;
  eq_.post(e);
}

}  // namespace qedisim::hba
