#include "sim/target/iscsi_target.h"

#include "common/failpoint_hook.h"
#include "hba_model/hsi/qedi_hsi.h"

namespace qedisim::target {

using namespace hsi;
using hba::IscsiPdu;

IscsiTarget::IscsiTarget(sc_core::sc_module_name name, const TargetConfig& cfg, FailpointHook* failpoints)
    : sc_module(name), cfg_(cfg), failpoints_(failpoints), service_(cfg.latency, cfg.latency_p99, cfg.seed) {
  if (cfg_.queue_depth == 0) cfg_.queue_depth = 1;
  for (auto luns : cfg.luns_per_portal) {
    Portal p;
    p.luns = luns;
    portals_.push_back(std::move(p));
  }
  SC_HAS_PROCESS(IscsiTarget);
  SC_METHOD(engine_method);
  sensitive << wake_.event();
  dont_initialize();
}

std::optional<std::uint32_t> IscsiTarget::portal_of(std::uint16_t cid) const {
  auto it = conns_.find(cid);
  if (it == conns_.end()) return std::nullopt;
  return it->second;
}

std::size_t IscsiTarget::outstanding(std::uint32_t portal) const {
  return portal < portals_.size() ? portals_[portal].outstanding.size() : 0;
}

void IscsiTarget::tcp_connect(std::uint16_t cid, std::uint32_t portal) {
  if (portal >= portals_.size()) return;  // nobody listens: PDUs on it are ignored
  conns_[cid] = portal;
}

// The target forgets a closed connection's tasks (no ERL 2 connection recovery).
void IscsiTarget::tcp_close(std::uint16_t cid, bool /*abortive*/) {
  auto portal = portal_of(cid);
  if (!portal) return;
  counters_.tasks_dropped_on_close +=
      remove_cmds(*portal, [cid](std::uint32_t, const Cmd& cmd) { return cmd.cid == cid; });
  conns_.erase(cid);
  rearm();
}

void IscsiTarget::pdu_to_target(const IscsiPdu& pdu) {
  auto portal = portal_of(pdu.cid);
  if (!portal) {
    ++counters_.pdus_for_unknown_conn;
    return;
  }
  const std::int64_t due = sim_now_ns() + cfg_.latency.ns;
  switch (pdu.opcode) {
    case ISCSI_OP_SCSI_CMD: {
      ++counters_.scsi_cmds_received;
      auto& out = portals_[*portal].outstanding;
      const std::uint64_t token = next_token_++;
      if (Cmd* old = out.find(pdu.itt)) {
        ++counters_.itt_collisions;
        remove_cmd(*portal, pdu.itt, *old);
      }
      Cmd& cmd = out[pdu.itt];
      cmd = Cmd{pdu.cid, pdu.lun, token, false, false, pdu};
      Lun& lun = portals_[*portal].lun_queues[pdu.lun];
      if (lun.in_service < cfg_.queue_depth) {
        start_service(*portal, cmd);
      } else {
        ++counters_.scsi_cmds_queued;
        lun.waiting.emplace_back(pdu.itt, token);
      }
      break;
    }
    case ISCSI_OP_SCSI_TMFUNC:
      ++counters_.tmfs_received;
      jobs_.schedule(sim_now_ns() + cfg_.tmf_latency.ns, Job{Job::Kind::serve_tmf, *portal, 0, pdu});
      break;
    case ISCSI_OP_NOOP_OUT:
      // A NOP-Out answering our NOP-In (reserved itt) expects nothing back.
      if (pdu.itt == ISCSI_RESERVED_TAG) break;
      jobs_.schedule(due, Job{Job::Kind::serve_mgmt, *portal, 0, pdu});
      break;
    case ISCSI_OP_LOGIN:
    case ISCSI_OP_LOGOUT:
    case ISCSI_OP_TEXT:
      jobs_.schedule(due, Job{Job::Kind::serve_mgmt, *portal, 0, pdu});
      break;
    default:
      break;
  }
  rearm();
}

void IscsiTarget::send_nop_in(std::uint32_t portal) {
  for (const auto& [cid, p] : conns_) {
    if (p != portal) continue;
    IscsiPdu nop;
    nop.cid = cid;
    nop.opcode = ISCSI_OP_NOOP_IN;
    nop.itt = ISCSI_RESERVED_TAG;
    nop.ttt = 0x1000 + static_cast<std::uint32_t>(counters_.mgmt_rsps_sent);
    send(nop);
    return;
  }
}

void IscsiTarget::engine_method() {
  const std::int64_t now = sim_now_ns();
  while (auto j = jobs_.pop_due(now)) {
    switch (j->kind) {
      case Job::Kind::serve_scsi:
        serve_scsi(*j);
        break;
      case Job::Kind::serve_tmf:
        serve_tmf(*j);
        break;
      case Job::Kind::serve_mgmt:
        serve_mgmt(*j);
        break;
      case Job::Kind::send:
        // A delayed answer for a connection that has closed since goes nowhere.
        if (portal_of(j->pdu.cid)) send(j->pdu);
        break;
    }
  }
  rearm();
}

void IscsiTarget::rearm() {
  activity_.note();
  const auto next = jobs_.next_time();
  if (!next) return;
  wake_.notify_in(*next - sim_now_ns());  // already due: a delta notification
}

void IscsiTarget::send(const IscsiPdu& rsp) {
  if (initiator_) initiator_->pdu_to_initiator(rsp);
}

void IscsiTarget::send_or_delay(std::uint32_t portal, const IscsiPdu& rsp, Duration delay) {
  if (delay.ns > 0)
    jobs_.schedule(sim_now_ns() + delay.ns, Job{Job::Kind::send, portal, 0, rsp});
  else
    send(rsp);
}

void IscsiTarget::start_service(std::uint32_t portal, Cmd& cmd) {
  ++portals_[portal].lun_queues[cmd.lun].in_service;
  cmd.in_service = true;
  jobs_.schedule(sim_now_ns() + service_.draw(), Job{Job::Kind::serve_scsi, portal, cmd.token, cmd.pdu});
}

void IscsiTarget::release_slot(std::uint32_t portal, Cmd& cmd) {
  if (!cmd.in_service) return;
  cmd.in_service = false;
  Lun& lun = portals_[portal].lun_queues[cmd.lun];
  --lun.in_service;
  auto& out = portals_[portal].outstanding;
  while (lun.in_service < cfg_.queue_depth && !lun.waiting.empty()) {
    const auto [itt, token] = lun.waiting.front();
    lun.waiting.pop_front();
    Cmd* waiting = out.find(itt);
    if (!waiting || waiting->token != token) continue;  // removed while it waited
    start_service(portal, *waiting);
  }
}

void IscsiTarget::remove_cmd(std::uint32_t portal, std::uint32_t itt, Cmd& cmd) {
  release_slot(portal, cmd);  // starts waiting commands; inserts and erases nothing
  portals_[portal].outstanding.erase(itt);
}

template <typename Which>
std::uint64_t IscsiTarget::remove_cmds(std::uint32_t portal, Which which) {
  auto& out = portals_[portal].outstanding;
  std::uint64_t removed = 0;
  for (const std::uint32_t itt : out.sorted_keys()) {  // taken first: the walk erases
    Cmd& cmd = *out.find(itt);
    if (!which(itt, cmd)) continue;
    remove_cmd(portal, itt, cmd);
    ++removed;
  }
  return removed;
}

void IscsiTarget::serve_scsi(const Job& j) {
  auto& out = portals_[j.portal].outstanding;
  Cmd* found = out.find(j.pdu.itt);
  // Aborted, reset or its connection closed while in service.
  if (!found || found->token != j.token) return;
  Cmd& cmd = *found;
  if (!cmd.delayed && failpoints_) {
    const auto o = failpoints_->hit(
        PointEvent{"target.scsi_rsp", j.portal, static_cast<std::uint32_t>(j.pdu.lun), {}, {}, {}, {}});
    if (o.drop) {
      ++counters_.scsi_rsps_dropped;
      release_slot(j.portal, cmd);  // served; its answer is lost: the target still lists it
      return;                       // never answered
    }
    if (o.delay.ns > 0) {
      ++counters_.scsi_rsps_delayed;
      cmd.delayed = true;
      jobs_.schedule(sim_now_ns() + o.delay.ns, j);
      return;
    }
  }
  IscsiPdu rsp;
  rsp.cid = cmd.cid;
  rsp.opcode = ISCSI_OP_SCSI_CMD_RSP;
  rsp.itt = j.pdu.itt;
  rsp.lun = cmd.lun;
  rsp.scsi_status = SAM_STAT_GOOD;
  remove_cmd(j.portal, j.pdu.itt, cmd);
  ++counters_.scsi_rsps_sent;
  send(rsp);
}

namespace {
TmfFunction tmf_function(std::uint8_t f) {
  switch (f) {
    case ISCSI_TM_FUNC_ABORT_TASK:
      return TmfFunction::abort_task;
    case ISCSI_TM_FUNC_LOGICAL_UNIT_RESET:
      return TmfFunction::lu_reset;
    default:
      return TmfFunction::target_reset;
  }
}

std::uint8_t tmf_response(TmfRespond r) {
  switch (r) {
    case TmfRespond::complete:
      return ISCSI_TMF_RSP_COMPLETE;
    case TmfRespond::no_task:
      return ISCSI_TMF_RSP_NO_TASK;
    case TmfRespond::rejected:
      return ISCSI_TMF_RSP_REJECTED;
  }
  return ISCSI_TMF_RSP_REJECTED;
}
}  // namespace

// The TMF takes effect only when the target answers FUNCTION COMPLETE; the
// commands it removes are never answered.
void IscsiTarget::serve_tmf(const Job& j) {
  if (!portal_of(j.pdu.cid)) return;
  auto& portal = portals_[j.portal];
  auto& out = portal.outstanding;
  const std::uint8_t func = j.pdu.function;
  std::uint8_t response = ISCSI_TMF_RSP_COMPLETE;
  if (func == ISCSI_TM_FUNC_ABORT_TASK) {
    if (!out.find(j.pdu.rtt)) response = ISCSI_TMF_RSP_NO_TASK;
  } else if (func == ISCSI_TM_FUNC_LOGICAL_UNIT_RESET) {
    if (j.pdu.lun >= portal.luns) response = ISCSI_TMF_RSP_NO_LUN;
  } else if (func != ISCSI_TM_FUNC_TARGET_WARM_RESET && func != ISCSI_TM_FUNC_TARGET_COLD_RESET) {
    response = ISCSI_TMF_RSP_NOT_SUPPORTED;
  }
  PointOutcome o;
  if (failpoints_) o = failpoints_->hit(PointEvent{"target.tmf_rsp", j.portal, {}, tmf_function(func), {}, {}, {}});
  if (o.respond) response = tmf_response(*o.respond);

  if (response == ISCSI_TMF_RSP_COMPLETE) {
    const std::uint64_t removed = remove_cmds(j.portal, [&](std::uint32_t itt, const Cmd& cmd) {
      return func == ISCSI_TM_FUNC_ABORT_TASK           ? itt == j.pdu.rtt
             : func == ISCSI_TM_FUNC_LOGICAL_UNIT_RESET ? cmd.lun == j.pdu.lun
                                                        : true;
    });
    (func == ISCSI_TM_FUNC_ABORT_TASK ? counters_.tasks_aborted : counters_.tasks_reset) += removed;
  }
  if (o.drop) return;
  IscsiPdu rsp;
  rsp.cid = j.pdu.cid;
  rsp.opcode = ISCSI_OP_SCSI_TMFUNC_RSP;
  rsp.itt = j.pdu.itt;
  rsp.response = response;
  rsp.lun = j.pdu.lun;
  ++counters_.tmf_rsps_sent;
  send_or_delay(j.portal, rsp, o.delay);
}

void IscsiTarget::serve_mgmt(const Job& j) {
  if (!portal_of(j.pdu.cid)) return;
  IscsiPdu rsp;
  rsp.cid = j.pdu.cid;
  rsp.itt = j.pdu.itt;
  Duration delay{};
  switch (j.pdu.opcode) {
    case ISCSI_OP_LOGIN:
      rsp.opcode = ISCSI_OP_LOGIN_RSP;
      break;
    case ISCSI_OP_TEXT:
      rsp.opcode = ISCSI_OP_TEXT_RSP;
      break;
    case ISCSI_OP_NOOP_OUT:
      rsp.opcode = ISCSI_OP_NOOP_IN;
      rsp.ttt = ISCSI_RESERVED_TAG;
      break;
    case ISCSI_OP_LOGOUT: {
      rsp.opcode = ISCSI_OP_LOGOUT_RSP;
      PointOutcome o;
      if (failpoints_) o = failpoints_->hit(PointEvent{"target.logout_rsp", j.portal, {}, {}, {}, {}, {}});
      // Logging out ends the connection's tasks whether or not the answer arrives.
      const std::uint16_t cid = j.pdu.cid;
      counters_.tasks_dropped_on_close +=
          remove_cmds(j.portal, [cid](std::uint32_t, const Cmd& cmd) { return cmd.cid == cid; });
      if (o.drop) return;
      delay = o.delay;
      break;
    }
    default:
      return;
  }
  ++counters_.mgmt_rsps_sent;
  send_or_delay(j.portal, rsp, delay);
}

}  // namespace qedisim::target
