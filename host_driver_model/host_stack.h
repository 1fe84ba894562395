// The composition root of the Linux side above the LLD: the kernel contexts
// (queue/cpuN, eh/host0, scsi_tmf/host0, iscsid, sg_reset, the timer wheel's
// "timer"), the Driver globals, scsi-ml with libiscsi as its host template,
// scsi_transport_iscsi and iscsid. The LLD (qedi, or a test's fake) plugs in
// as an IscsiTransport. A Kernel must exist before the HostStack is built.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <systemc>
#include <vector>

#include "common/vocabulary.h"
#include "host_driver_model/driver.h"
#include "host_driver_model/iscsid/iscsid.h"
#include "host_driver_model/kernel/timer.h"
#include "host_driver_model/kernel/workqueue.h"
#include "host_driver_model/scsi/scsi_host.h"

namespace qedisim::drv {

class HostStack : public sc_core::sc_module {
 public:
  // `cpus`: the machine's CPUs (blk-mq hardware queues); `nodes[i]`: session
  // i as iscsid logs it in (its LUNs and task pool).
  HostStack(sc_core::sc_module_name name, const DriverParams& params, unsigned cpus, const FixSet& fixes,
            DriverObserver& probes, IscsiTransport& lld, const std::vector<NodeConfig>& nodes);

  // A workload command (any context; never blocks). `done` gets the final
  // scsi result (host byte << 16 | status); 0 is success.
  void submit(const IoRequest& rq, std::function<void(int result)> done);
  // One scenario action (at: or on:); never blocks the caller: iscsid.* go to
  // iscsid, scsi.reset to the sg_reset context, link.* arm their timers.
  void run_action(ActionKind kind, const ActionArgs& args);
  // No command outstanding, no EH, no TMF, iscsid idle, no delayed action pending.
  bool quiescent() const;

  std::uint64_t scsi_queue_rq_calls() const { return scsi_->counters().queue_rq_calls; }
  std::uint64_t cmds_completed() const { return scsi_->counters().cmds_completed; }
  std::uint64_t cmds_failed() const { return scsi_->counters().cmds_failed; }
  EhLevel eh_max_level() const { return scsi_->counters().eh_max_level; }

  // link.down / link.up reach the wire through this hook (the LLD's device
  // notices the loss and the LLD reports the conn error itself); without
  // one a link event only changes whether iscsid can reach the target.
  void set_link_handler(std::function<void(std::uint32_t session, bool up)> h) { link_handler_ = std::move(h); }
  bool link_up(std::uint32_t session) const { return link_up_.at(session); }
  // hba.remove: the LLD's own teardown of every session (__qedi_remove).
  void set_hba_remove_handler(std::function<void()> h) { hba_remove_ = std::move(h); }

  ScsiHost& scsi() { return *scsi_; }
  Iscsid& iscsid() { return *iscsid_; }
  kern::Context& timer_context() { return timer_ctx_; }

 private:
  void link_event(std::uint32_t session, bool up);
  void sg_reset(const ActionArgs& args);

  kern::Context timer_ctx_{"timer"};
  std::unique_ptr<kern::TimerWheel> wheel_;
  std::unique_ptr<ScsiHost> scsi_;
  std::unique_ptr<Iscsid> iscsid_;
  std::unique_ptr<kern::Workqueue> ioctl_wq_;  // the sg_reset caller ("sg_reset")
  std::deque<std::unique_ptr<kern::Work>> ioctl_works_;
  std::vector<bool> link_up_;
  std::function<void(std::uint32_t, bool)> link_handler_;
  std::function<void()> hba_remove_;
  // kmemleak root: the iSCSI host's session list (iscsi_host_add'ed sessions).
  kern::KmemleakRoot leak_roots_{this, "iscsi sessions", [](kern::RefVisitor& v) { v(driver().sessions); }};
};

}  // namespace qedisim::drv
