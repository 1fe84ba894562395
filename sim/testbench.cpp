// One simulation: host memory, the HBA, the remote target and the host
// driver, wired through the bus; runs until the workload is done, every `at`
// action time has passed and the model is quiescent, or until stop_at.
#include "sim/testbench.h"

#include <algorithm>
#include <memory>

#include <systemc>

#include "hba_model/hba.h"
#include "hba_model/host_memory.h"
#include "host_driver_model/host.h"
#include "sim/failpoints/failpoints.h"
#include "sim/target/iscsi_target.h"
#include "sim/trace/tracer.h"
#include "sim/trace/vcd_writer.h"

namespace qedisim {

namespace {

sc_core::sc_time ns(std::int64_t v) { return sc_core::sc_time(static_cast<double>(v), sc_core::SC_NS); }

// Stops the kernel at the first quiescent point after the workload and the
// last `at` action. Re-checks whenever a part of the model reports activity.
class EndMonitor : public sc_core::sc_module {
 public:
  EndMonitor(sc_core::sc_module_name name, const Host& host, const hba::Hba& hba, const target::IscsiTarget& target,
             Duration last_action)
      : sc_module(name), host_(host), hba_(hba), target_(target), last_action_(last_action) {
    SC_HAS_PROCESS(EndMonitor);
    SC_METHOD(check);
  }
  bool stopped_quiescent() const { return stopped_; }

 private:
  void check() {
    const std::int64_t now = hba::sim_now_ns();
    if (now < last_action_.ns) {
      next_trigger(ns(last_action_.ns - now));
      return;
    }
    if (host_.quiescent() && hba_.firmware().quiescent() && target_.idle()) {
      stopped_ = true;
      sc_core::sc_stop();
      return;
    }
    next_trigger(host_.activity() | hba_.activity() | target_.activity());
  }

  const Host& host_;
  const hba::Hba& hba_;
  const target::IscsiTarget& target_;
  Duration last_action_;
  bool stopped_ = false;
};

std::vector<Action> point_actions(const Scenario& s) {
  std::vector<Action> out;
  for (const auto& a : s.actions)
    if (a.on) out.push_back(a);
  return out;
}

Duration last_at_action(const Scenario& s) {
  Duration last{};
  for (const auto& a : s.actions)
    if (a.at && last < *a.at) last = *a.at;
  return last;
}

void fill_counters(RunResult& r, const Host& host, const hba::Hba& hba, const target::IscsiTarget& target) {
  auto& c = r.counters;
  const auto& w = host.workload();
  const auto& q = host.qedi();
  c["tids_in_use"] = q.tids_in_use();
  c["cmds_issued"] = static_cast<std::int64_t>(w.issued());
  c["cmds_completed"] = static_cast<std::int64_t>(w.completed());
  c["cmds_failed"] = static_cast<std::int64_t>(w.failed());
  c["sessions_logged_in"] = host.sessions_logged_in();
  c["qedi_task_pool_full"] = static_cast<std::int64_t>(q.counters().task_pool_full);
  c["qedi_cmds_requeued"] = static_cast<std::int64_t>(q.counters().cmds_requeued);
  c["qedi_interrupts"] = static_cast<std::int64_t>(q.counters().interrupts);

  const auto& fw = hba.firmware();
  const auto& f = fw.counters();
  c["fw_tids_in_use"] = fw.tids_in_use();
  c["fw_wqes_executed"] = static_cast<std::int64_t>(f.wqes_executed);
  c["fw_cqes_posted"] = static_cast<std::int64_t>(f.cqes_posted);
  c["fw_cleanups_requested"] = static_cast<std::int64_t>(f.cleanups_requested);
  c["fw_cleanups_completed"] = static_cast<std::int64_t>(f.cleanups_completed);
  c["fw_responses_dropped"] = static_cast<std::int64_t>(f.responses_dropped_invalidated +
                                                        f.responses_dropped_unmatched + f.responses_dropped_no_conn);
  std::uint64_t stalls = 0;
  for (unsigned v = 0; v < fw.vectors(); ++v) stalls += fw.cq(v).full_stalls();
  c["fw_cq_full_stalls"] = static_cast<std::int64_t>(stalls);

  const auto& t = target.counters();
  c["target_scsi_rsps_dropped"] = static_cast<std::int64_t>(t.scsi_rsps_dropped);
  c["target_tmf_rsps_sent"] = static_cast<std::int64_t>(t.tmf_rsps_sent);
}

struct Bench {
  std::unique_ptr<Tracer> tracer;
  std::unique_ptr<Failpoints> failpoints;
  std::unique_ptr<hba::HostMemory> mem;
  std::unique_ptr<hba::Hba> hba;
  std::unique_ptr<target::IscsiTarget> target;
  std::unique_ptr<Host> host;
  std::unique_ptr<EndMonitor> monitor;
};

}  // namespace

RunResult run_simulation(const Scenario& scenario, const RunOptions& options) {
  // Before any sc_time exists. A second elaboration in one process is not
  // supported by SystemC 2.3 anyway (see testbench.h).
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  // options.fixes and options.seed matter once the full driver model lands.

  const ModelParams& p = scenario.params;
  // The modules live until the process exits: SystemC keeps references to
  // their processes and events, and one elaboration is all a process gets.
  // Reachable from this static, so LeakSanitizer does not count them.
  static Bench* const bench = new Bench;
  Bench& b = *bench;
  b.failpoints = std::make_unique<Failpoints>(scenario.failpoints, point_actions(scenario));
  // `on:` actions are counted by Failpoints; executing them comes with the driver model.
  b.failpoints->set_action_runner([](const Action&) {});

  target::TargetConfig tcfg;
  tcfg.latency = p.target_latency;
  tcfg.luns_per_portal.clear();
  for (const auto& s : scenario.sessions) tcfg.luns_per_portal.push_back(s.luns);

  b.mem = std::make_unique<hba::HostMemory>("host_memory");
  b.hba = std::make_unique<hba::Hba>("hba", hba::FirmwareConfig::from(p), b.failpoints.get());
  b.target = std::make_unique<target::IscsiTarget>("target", tcfg, b.failpoints.get());
  b.host = std::make_unique<Host>("host", p, scenario.sessions, scenario.workload, *b.mem);

  b.hba->dma.bind(b.mem->socket);
  b.host->iomem.socket.bind(b.hba->mmio);
  b.hba->msix.bind(b.host->msix);
  b.hba->bind_target(*b.target);
  b.target->bind_initiator(*b.hba);

  b.tracer = std::make_unique<Tracer>(!options.vcd_path.empty());
  b.hba->set_tracer(b.tracer.get());

  b.monitor = std::make_unique<EndMonitor>("end_monitor", *b.host, *b.hba, *b.target, last_at_action(scenario));

  sc_core::sc_start(ns(scenario.stop_at.ns));

  RunResult r;
  r.sim_time_ns = hba::sim_now_ns();
  r.end_reason = b.monitor->stopped_quiescent() ? "quiescent" : "stop_at";
  fill_counters(r, *b.host, *b.hba, *b.target);
  if (b.tracer->enabled()) write_vcd(*b.tracer, options.vcd_path, scenario.name);
  return r;
}

}  // namespace qedisim
