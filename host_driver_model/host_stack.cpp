#include "host_driver_model/host_stack.h"

#include <fmt/format.h>

#include "host_driver_model/kernel/sched.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"
#include "host_driver_model/libiscsi/transport_iscsi.h"

namespace qedisim::drv {

HostStack::HostStack(sc_core::sc_module_name name, const DriverParams& params, unsigned cpus, const FixSet& fixes,
                     DriverObserver& probes, IscsiTransport& lld, const std::vector<NodeConfig>& nodes)
    : sc_core::sc_module(name) {
  std::vector<std::uint32_t> luns;
  std::vector<std::uint32_t> cmds_max;
  std::vector<NodeConfig> created;  // each session's pool as create_session and libiscsi size it
  luns.reserve(nodes.size());
  cmds_max.reserve(nodes.size());
  created.reserve(nodes.size());
  for (const auto& n : nodes) {
    luns.push_back(n.luns);
    const auto asked = n.cmds_max ? n.cmds_max : static_cast<std::uint32_t>(params.session_cmds_max);
    cmds_max.push_back(iscsi_session_pool_size(lld.session_cmds_max(asked)));
    created.push_back(NodeConfig{n.luns, cmds_max.back()});
  }
  Driver& d = driver();
  d.params = &params;
  d.fixes = fixes.effective();
  d.probes = &probes;
  d.transport = &lld;
  d.sessions.assign(luns.size(), nullptr);

  wheel_ = std::make_unique<kern::TimerWheel>("timer_wheel", timer_ctx_);

  // qedi_host_template: libiscsi's entry points; no eh_host_reset_handler.
  ScsiHostTemplate tmpl;
  tmpl.queuecommand = iscsi_queuecommand;
  tmpl.eh_timed_out = iscsi_eh_cmd_timed_out;
  tmpl.eh_abort_handler = iscsi_eh_abort;
  tmpl.eh_device_reset_handler = iscsi_eh_device_reset;
  tmpl.eh_target_reset_handler = iscsi_eh_recover_target;
  scsi_ = std::make_unique<ScsiHost>("scsi_host0", cpus == 0 ? 1 : cpus, luns, tmpl, cmds_max);
  // A session's scsi_target is a child of its iscsi_cls_session device.
  scsi_->set_target_pin([](std::uint32_t id) -> std::function<void()> {
    if (id >= driver().sessions.size()) return nullptr;
    kern::KPtr<IscsiSession> s = driver().sessions[id];
    if (!s || !s.valid()) return nullptr;
    iscsi_session_get_dev(s);
    return [s] { iscsi_session_put_dev(s); };
  });
  set_shost(scsi_.get());

  link_up_.assign(luns.size(), true);
  iscsid_ = std::make_unique<Iscsid>("iscsid", created, [this](std::uint32_t s) { return link_up_.at(s); });
  IscsiUevents ev;
  ev.conn_error = [this](kern::KPtr<IscsiConn> c, int err) { iscsid_->conn_error(c, err); };
  ev.recv_pdu = [this](kern::KPtr<IscsiConn> c, const IscsiRsp& r) { iscsid_->recv_pdu(c, r); };
  iscsi_register_uevents(std::move(ev));

  ioctl_wq_ = std::make_unique<kern::Workqueue>("sg_reset_wq", "sg_reset");
  iscsid_->login_all();
}

void HostStack::submit(const IoRequest& rq, std::function<void(int)> done) { scsi_->submit(rq, std::move(done)); }

void HostStack::link_event(std::uint32_t session, bool up) {
  link_up_.at(session) = up;
  if (link_handler_) link_handler_(session, up);
}

void HostStack::sg_reset(const ActionArgs& args) {
  while (!ioctl_works_.empty() && !ioctl_works_.front()->pending && ioctl_wq_->running() != ioctl_works_.front().get())
    ioctl_works_.pop_front();
  ioctl_works_.push_back(std::make_unique<kern::Work>(
      "sg_reset", [this, args] { scsi_->scsi_ioctl_reset(args.session, args.lun, args.level); }));
  ioctl_wq_->queue_work(*ioctl_works_.back());
}

void HostStack::run_action(ActionKind kind, const ActionArgs& args) {
  switch (kind) {
    case ActionKind::iscsid_logout:
    case ActionKind::iscsid_terminate:
    case ActionKind::iscsid_ep_disconnect:
    case ActionKind::iscsid_destroy_conn:
    case ActionKind::iscsid_destroy_session:
    case ActionKind::iscsid_stop_conn:
    case ActionKind::iscsid_relogin:
      iscsid_->request(kind, args);
      break;
    case ActionKind::link_down:
      link_event(args.session, false);
      break;
    case ActionKind::link_up:
      link_event(args.session, true);
      break;
    case ActionKind::scsi_reset:
      sg_reset(args);
      break;
    case ActionKind::scsi_abort:
      scsi_->force_abort(args.stream, args.op);
      break;
    case ActionKind::hba_remove:
      if (hba_remove_) hba_remove_();
      break;
  }
}

bool HostStack::quiescent() const {
  if (!scsi_->quiescent() || !iscsid_->idle() || ioctl_wq_->busy()) return false;
  return true;
}

}  // namespace qedisim::drv
