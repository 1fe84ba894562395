// One simulation: host memory, the HBA, the remote target, the qedi driver
// and the Linux stack above it, wired through the bus; the checkers observe
// every layer. Runs until the workload is done, every `at` action has fired
// and the model is quiescent, or until stop_at.
#include "sim/testbench.h"

#include <malloc.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <memory>
#include <regex>
#include <stdexcept>
#include <systemc>

#include "common/activity.h"
#include "hba_model/hba.h"
#include "hba_model/host_memory.h"
#include "host_driver_model/host_stack.h"
#include "host_driver_model/kernel/kernel.h"
#include "host_driver_model/kernel/printk.h"
#include "host_driver_model/qedi/qedi.h"
#include "host_driver_model/qedi/qedi_host.h"
#include "sim/checkers/checker_set.h"
#include "sim/failpoints/failpoints.h"
#include "sim/idle_poll.h"
#include "sim/report/atomic_file.h"
#include "sim/target/iscsi_target.h"
#include "sim/trace/event_writer.h"
#include "sim/trace/gtkw_writer.h"
#include "sim/trace/model_tracer.h"
#include "sim/trace/tracer.h"
#include "sim/trace/vcd_writer.h"
#include "sim/workload.h"

namespace qedisim {

namespace {

// Minor page faults of this process so far (first touches of memory).
long minor_faults() {
  rusage u{};
  ::getrusage(RUSAGE_SELF, &u);
  return u.ru_minflt;
}

volatile std::sig_atomic_t g_interrupt = 0;

sc_core::sc_time ns(std::int64_t v) { return sc_core::sc_time(static_cast<double>(v), sc_core::SC_NS); }

// Fires the `at:` actions in time order (list order at the same instant).
class ActionScheduler : public sc_core::sc_module {
 public:
  ActionScheduler(sc_core::sc_module_name name, const std::vector<Action>& actions,
                  std::function<void(const Action&)> run)
      : sc_module(name), run_(std::move(run)) {
    for (const auto& a : actions)
      if (a.at) timed_.push_back(a);
    std::stable_sort(timed_.begin(), timed_.end(), [](const Action& a, const Action& b) { return *a.at < *b.at; });
    SC_HAS_PROCESS(ActionScheduler);
    SC_METHOD(fire);
    sensitive << next_.event();
  }
  bool all_fired() const { return fired_count_ == timed_.size(); }
  const sc_core::sc_event& fired() const { return fired_.event(); }

 private:
  void fire() {
    const std::int64_t now = sim_now_ns();
    bool any = false;
    while (fired_count_ < timed_.size() && timed_[fired_count_].at->ns <= now) {
      const Action& a = timed_[fired_count_++];
      run_(a);
      any = true;
    }
    if (any) fired_.note();
    if (fired_count_ < timed_.size()) next_.notify_in(timed_[fired_count_].at->ns - now);
  }

  std::function<void(const Action&)> run_;
  std::vector<Action> timed_;
  std::size_t fired_count_ = 0;
  TimedEvent next_;  // the next action's time
  Activity fired_;
};

// Watches for quiescent points (end-state checks) and for the end of the run.
// It looks at the model in the update phase of every delta cycle in which a
// component noted activity (common/activity.h): the state that cycle's
// processes left, at the same instants as a method woken by the activity
// events in the next cycle, but with no process run for it (six a steady
// command). The stop it decides there is a method's: SystemC triggers a
// cycle's delta notifications last-notified first, so that method runs
// first in the next cycle and sc_stop lets that cycle finish, as it did.
class EndMonitor : public sc_core::sc_module {
 public:
  struct Parts {
    const drv::HostStack& host;
    const drv::Qedi& qedi;
    const hba::Hba& hba;
    const target::IscsiTarget& target;
    const Workload& workload;
    const ActionScheduler& actions;
    checkers::CheckerSet& checkers;
  };
  EndMonitor(sc_core::sc_module_name name, Parts parts) : sc_module(name), p_(parts), watch_(*this) {
    SC_HAS_PROCESS(EndMonitor);
    // Once at the start, where the method woken by activity used to run
    // first: the model may be quiescent before anything notes activity.
    SC_METHOD(start);
    SC_METHOD(stop);
    sensitive << stop_;
    dont_initialize();
    SC_METHOD(poll);
    sensitive << poll_.event();
    dont_initialize();
  }
  bool stopped_quiescent() const { return stopped_; }
  bool quiescent_now() const { return model_quiescent(); }
  bool interrupted() const { return interrupted_; }

 private:
  bool model_quiescent() const {
    return p_.host.quiescent() && p_.qedi.idle() && p_.hba.firmware().quiescent() && p_.target.idle();
  }
  void poll() {
    if (poll_.due(sim_now_ns()) && check()) sc_core::sc_stop();
  }
  void start() {
    if (check()) sc_core::sc_stop();
  }
  void stop() { sc_core::sc_stop(); }
  // Runs at any activity, and 10 ms after its last run when none came.
  // True when the run is to stop (interrupted, or done and quiescent).
  bool check() {
    const std::int64_t now = sim_now_ns();
    if (g_interrupt) {
      interrupted_ = true;
      return true;
    }
    const bool quiet = model_quiescent();
    if (quiet && !was_quiet_) p_.checkers.quiescent_point(now);
    was_quiet_ = quiet;
    if (quiet && p_.workload.done() && p_.actions.all_fired()) {
      stopped_ = true;
      return true;
    }
    // Re-check on any activity; the poll is a safety net for state changes
    // that note none (timers inside the host stack).
    poll_.ran(now);
    return false;
  }
  // The update-phase call (no sc_stop there: see above).
  struct Watch : ActivityWatch {
    explicit Watch(EndMonitor& m) : monitor(m) {}
    void changed() override {
      if (monitor.check()) monitor.stop_.notify(sc_core::SC_ZERO_TIME);
    }
    EndMonitor& monitor;
  };

  Parts p_;
  Watch watch_;
  sc_core::sc_event stop_;
  IdlePoll poll_{10'000'000};  // 10 ms
  bool was_quiet_ = false;
  bool stopped_ = false;
  bool interrupted_ = false;
};

std::vector<Action> point_actions(const Scenario& s) {
  std::vector<Action> out;
  for (const auto& a : s.actions)
    if (a.on) out.push_back(a);
  return out;
}

checkers::FaultKind fault_kind(const PointOutcome& o) {
  if (o.drop) return checkers::FaultKind::drop;
  if (o.fail) return checkers::FaultKind::fail;
  if (o.respond) return checkers::FaultKind::respond;
  return checkers::FaultKind::delay;
}

// Everything one run builds. Lives until the process exits: SystemC keeps
// references to processes and events, and a process elaborates once.
struct Bench {
  std::unique_ptr<Tracer> tracer;
  std::unique_ptr<Failpoints> failpoints;
  std::unique_ptr<checkers::CheckerSet> checkers;
  // RunOptions::observe false: what the model reports to instead of the
  // checkers (the no-op defaults of the three observer interfaces).
  struct Unobserved : drv::DriverObserver, hba::FwObserver {};  // a DriverObserver is a kern::Observer
  std::unique_ptr<Unobserved> unobserved;
  std::unique_ptr<kern::Kernel> kernel;
  std::unique_ptr<hba::HostMemory> mem;
  std::unique_ptr<hba::Hba> hba;
  std::unique_ptr<target::IscsiTarget> target;
  std::unique_ptr<drv::QediHost> qedi_host;
  std::unique_ptr<drv::HostStack> host;
  std::unique_ptr<Workload> workload;
  std::unique_ptr<ActionScheduler> actions;
  std::unique_ptr<EndMonitor> monitor;
  std::unique_ptr<ModelTracer> model_tracer;  // only when a VCD is asked for
  std::unique_ptr<EventWriter> events;        // only with --log or --trace
  std::vector<std::int64_t> fault_times;      // every fault injected and action run, in time order
};

// Where the race behind `v` starts, for the waveform's zoom: the earliest
// time its message names (an allocation, a free, a clear), or the last fault
// injected before that.
std::int64_t race_start(const Violation& v, const std::vector<std::int64_t>& fault_times) {
  std::int64_t earliest = v.time_ns;
  static const std::regex kTime(R"((\d+)\.(\d{3})s\b)");
  for (auto it = std::sregex_iterator(v.message.begin(), v.message.end(), kTime); it != std::sregex_iterator(); ++it)
    earliest = std::min<std::int64_t>(earliest, std::stoll((*it)[1]) * 1000000000LL + std::stoll((*it)[2]) * 1000000LL);
  std::int64_t start = earliest;
  for (std::int64_t t : fault_times)
    if (t <= earliest) start = t;
  return start;
}

// One scenario action, from `at:` or `on:`: logged, a link loss or HBA
// removal told to the checkers as an outside fault, then run.
void run_scenario_action(Bench& b, const Action& a) {
  b.fault_times.push_back(sim_now_ns());
  if (b.events) {
    Ev e;
    e.sys = EvSys::failpoint;
    e.ns = sim_now_ns();
    e.session = a.kind == ActionKind::hba_remove || a.kind == ActionKind::link_down || a.kind == ActionKind::link_up
                    ? -1
                    : static_cast<std::int32_t>(a.args.session);
    e.ctx = "scenario";
    e.fn = "-";
    const std::string text = fmt::format("action {} (session {})", to_string(a.kind), a.args.session);
    e.text = text;
    b.events->emit(e);
  }
  if (a.kind == ActionKind::link_down || a.kind == ActionKind::hba_remove) {
    checkers::InjectedFault f;
    f.point = std::string(to_string(a.kind));
    f.session = a.args.session;
    f.kind = checkers::FaultKind::fail;
    f.at_ns = sim_now_ns();
    b.checkers->fault_injected(f);
  }
  b.host->run_action(a.kind, a.args);
}

kern::Kernel::Stalls stalls_of(const ModelParams& p) {
  return kern::Kernel::Stalls{p.sched_stall, p.sched_stall_rate, p.sched_stall_points, p.sched_stall_horizon};
}

// The process's one bench. Reachable from this static, so LeakSanitizer
// does not count the modules; never destroyed.
Bench& the_bench() {
  static Bench* const bench = new Bench;
  return *bench;
}

void fill_counters(RunResult& r, const Bench& b) {
  auto& c = r.counters;
  const auto& q = b.qedi_host->qedi();
  c["tids_in_use"] = q.tids_in_use();
  c["cmds_issued"] = static_cast<std::int64_t>(b.workload->issued());
  c["cmds_completed"] = static_cast<std::int64_t>(b.workload->completed());
  c["cmds_failed"] = static_cast<std::int64_t>(b.workload->failed());
  const auto& qc = q.counters();
  c["qedi_task_pool_full"] = static_cast<std::int64_t>(qc.task_pool_full);
  c["qedi_tid_double_clear"] = static_cast<std::int64_t>(qc.tid_double_clear);
  c["qedi_abort_works"] = static_cast<std::int64_t>(qc.abort_works);
  c["qedi_reset_resp_works"] = static_cast<std::int64_t>(qc.reset_resp_works);
  c["qedi_cleanup_waits_timed_out"] = static_cast<std::int64_t>(qc.cleanup_waits_timed_out);
  c["qedi_alloc_failures"] = static_cast<std::int64_t>(qc.alloc_failures);
  c["qedi_drains"] = static_cast<std::int64_t>(qc.drains);

  const auto& fw = b.hba->firmware();
  const auto& f = fw.counters();
  c["fw_tids_in_use"] = fw.tids_in_use();
  c["fw_wqes_executed"] = static_cast<std::int64_t>(f.wqes_executed);
  c["fw_cqes_posted"] = static_cast<std::int64_t>(f.cqes_posted);
  c["fw_cleanups_requested"] = static_cast<std::int64_t>(f.cleanups_requested);
  c["fw_cleanups_completed"] = static_cast<std::int64_t>(f.cleanups_completed);
  c["fw_responses_dropped"] = static_cast<std::int64_t>(f.responses_dropped_invalidated +
                                                        f.responses_dropped_unmatched + f.responses_dropped_no_conn);
  const auto& t = b.target->counters();
  c["target_scsi_rsps_dropped"] = static_cast<std::int64_t>(t.scsi_rsps_dropped);
  c["target_tmf_rsps_sent"] = static_cast<std::int64_t>(t.tmf_rsps_sent);
}

// Elaborates the model of `scenario` into `b` (SystemC: once per process)
// with `options`' fixes and seed, a tracer if it asks for a VCD, and its
// log and trace attached before the modules are built.
void build(Bench& b, const Scenario& scenario, const RunOptions& options) {
  if (b.kernel) throw std::logic_error("a model was already elaborated in this process (SystemC elaborates once)");
  // Before any sc_time exists.
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);

  const ModelParams& p = scenario.params;
  const std::uint64_t seed = options.seed;
  b.tracer = std::make_unique<Tracer>(!options.vcd_path.empty());
  b.failpoints = std::make_unique<Failpoints>(scenario.failpoints, point_actions(scenario), seed);
  b.checkers = std::make_unique<checkers::CheckerSet>(checkers::CheckerConfig::from(p));
  if (!options.observe) b.unobserved = std::make_unique<Bench::Unobserved>();
  kern::Observer* const kernel_observer =
      b.unobserved ? static_cast<kern::Observer*>(b.unobserved.get()) : b.checkers.get();
  b.kernel = std::make_unique<kern::Kernel>(b.failpoints.get(), kernel_observer, seed, p.sched_jitter);
  b.kernel->set_stalls(stalls_of(p), seed);
  if (!options.log_path.empty() || !options.trace_path.empty()) {
    b.events =
        std::make_unique<EventWriter>(options.log_path, LogFilter::parse(options.log_filter), options.trace_path);
    kern::Kernel::events = b.events.get();
    b.checkers->set_finding_listener([&b](const Violation& v) { b.events->violation(v); });
  }
  b.failpoints->set_fault_listener([&b](const PointEvent& ev, const PointOutcome& out) {
    b.fault_times.push_back(sim_now_ns());
    if (b.events) {
      std::string what = out.drop ? "drop" : out.fail ? "fail" : "";
      if (out.respond) what = fmt::format("respond {}", to_string(*out.respond));
      if (out.delay.ns > 0) what += fmt::format("{}delay {}", what.empty() ? "" : ", ", format_duration(out.delay));
      const std::int32_t session = ev.session ? static_cast<std::int32_t>(*ev.session) : -1;
      const std::string text = fmt::format("failpoint {}: {}", ev.point, what);
      // The device's and the target's points happen there, not in the host context that ran last.
      const bool device = ev.point.rfind("fw.", 0) == 0;
      const bool target = ev.point.rfind("target.", 0) == 0;
      if (device || target) {
        Ev e;
        e.sys = EvSys::failpoint;
        e.ns = sim_now_ns();
        e.session = session;
        e.ctx = device ? "fw" : "target";
        e.fn = "-";
        e.text = text;
        b.events->emit(e);
      } else {
        kern::emit_log(EvSys::failpoint, session, text);
      }
    }
    checkers::InjectedFault f;
    f.point = std::string(ev.point);
    f.session = ev.session;
    f.kind = fault_kind(out);
    f.delay_ns = out.delay.ns;
    f.at_ns = sim_now_ns();
    b.checkers->fault_injected(f);
  });

  target::TargetConfig tcfg;
  tcfg.latency = p.target_latency;
  tcfg.latency_p99 = p.target_latency_p99;
  tcfg.queue_depth = static_cast<std::uint32_t>(p.target_queue_depth);
  tcfg.tmf_latency = p.target_tmf_latency;
  tcfg.seed = seed;
  tcfg.luns_per_portal.clear();
  for (const auto& s : scenario.sessions) tcfg.luns_per_portal.push_back(s.luns);

  b.mem = std::make_unique<hba::HostMemory>("host_memory");
  b.hba = std::make_unique<hba::Hba>("hba", hba::FirmwareConfig::from(p), b.failpoints.get());
  b.target = std::make_unique<target::IscsiTarget>("target", tcfg, b.failpoints.get());
  b.hba->dma.bind(b.mem->socket);
  b.hba->bind_target(*b.target);
  b.target->bind_initiator(*b.hba);
  b.hba->set_observer(b.unobserved ? static_cast<hba::FwObserver*>(b.unobserved.get()) : b.checkers.get());
  b.hba->set_tracer(b.tracer.get());
  b.checkers->set_firmware_tasks(&b.hba->firmware().tasks());

  b.qedi_host = std::make_unique<drv::QediHost>("qedi_host", p, p, *b.mem);
  b.qedi_host->iomem.socket.bind(b.hba->mmio);
  b.hba->msix.bind(b.qedi_host->msix);
  std::vector<drv::NodeConfig> nodes;
  nodes.reserve(scenario.sessions.size());
  for (const auto& s : scenario.sessions) nodes.push_back(drv::NodeConfig{s.luns, s.cmds_max.value_or(0)});
  b.host = std::make_unique<drv::HostStack>(
      "host_stack", p, static_cast<unsigned>(p.hba_cpus), options.fixes,
      b.unobserved ? static_cast<drv::DriverObserver&>(*b.unobserved) : *b.checkers, b.qedi_host->qedi(), nodes);
  b.qedi_host->connect(*b.host, *b.hba);

  b.failpoints->set_action_runner([&b](const Action& a) { run_scenario_action(b, a); });
  b.workload = std::make_unique<Workload>("workload", scenario.workload, static_cast<unsigned>(p.hba_cpus), *b.host);
  b.actions = std::make_unique<ActionScheduler>("actions", scenario.actions,
                                                [&b](const Action& a) { run_scenario_action(b, a); });
  b.monitor = std::make_unique<EndMonitor>(
      "end_monitor",
      EndMonitor::Parts{*b.host, b.qedi_host->qedi(), *b.hba, *b.target, *b.workload, *b.actions, *b.checkers});

  if (b.tracer->enabled())
    b.model_tracer = std::make_unique<ModelTracer>(
        "model_tracer", *b.tracer, b.qedi_host->qedi(), *b.hba,
        std::vector<const sc_core::sc_event*>{&b.qedi_host->qedi().activity(), &b.hba->activity(),
                                              &b.target->activity(), &b.workload->changed(), &b.actions->fired()},
        static_cast<unsigned>(scenario.sessions.size()));
}

// Every generator the run's seed feeds, restarted from `seed`: the same
// state as a model built with it (construction draws nothing).
void reseed(Bench& b, const ModelParams& p, std::uint64_t seed) {
  b.failpoints->reseed(seed);
  b.kernel->reseed(seed);
  b.kernel->set_stalls(stalls_of(p), seed);
  b.target->reseed(seed);
}

// Runs the elaborated model to its end and collects the result.
RunResult simulate(Bench& b, const Scenario& scenario, const RunOptions& options) {
  b.checkers->keep_warnings(!options.campaign_answer_only);
  const long faults_start = minor_faults();
  const auto wall_start = std::chrono::steady_clock::now();
  try {
    sc_core::sc_start(ns(scenario.stop_at.ns));
  } catch (...) {  // an internal error: no half-written log or trace left behind (the bench is never destroyed)
    kern::Kernel::events = nullptr;
    if (b.events) b.events->abandon();
    throw;
  }

  RunResult r;
  r.sim_wall_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  r.sim_page_faults = minor_faults() - faults_start;
  r.sim_time_ns = sim_now_ns();
  r.end_reason = b.monitor->interrupted() ? "interrupted" : b.monitor->stopped_quiescent() ? "quiescent" : "stop_at";
  if (b.monitor->interrupted()) {  // no report, waveform, log or trace of a run cut short
    kern::Kernel::events = nullptr;
    if (b.events) b.events->abandon();
    return r;
  }
  b.checkers->end_of_run(r.sim_time_ns, b.monitor->quiescent_now());
  if (b.events) {
    kern::Kernel::events = nullptr;
    b.events->finish(r.sim_time_ns);
  }
  r.eh_max_level = b.host->eh_max_level();
  if (!options.campaign_answer_only) fill_counters(r, b);
  r.violations = b.checkers->violations();
  r.warnings = b.checkers->warnings();
  for (const auto& [point, n] : b.failpoints->occurrences()) r.points_reached.emplace(point, n);
  r.tmf_transitions = b.checkers->tmf_transitions();
  r.session_transitions = b.checkers->session_transitions();
  if (b.tracer->enabled()) {
    // Violations and warnings (data_race) each step their id's signal.
    std::vector<Violation> marks = r.violations;
    marks.insert(marks.end(), r.warnings.begin(), r.warnings.end());
    b.model_tracer->add_violation_pulses(marks);
    write_vcd(*b.tracer, options.vcd_path, scenario.name);
    GtkwView view;
    view.end_ns = r.sim_time_ns;
    if (!r.violations.empty()) {
      view.violation_ns = r.violations.front().time_ns;
      view.race_start_ns = race_start(r.violations.front(), b.fault_times);
    }
    // A VCD into /dev/null or a pipe has no directory to put a save file beside.
    if (!is_special_file(options.vcd_path)) write_gtkw(*b.tracer, options.vcd_path, view);
  }
  return r;
}

}  // namespace

void release_scratch_memory() {
  // SystemC's heap of sc_dt concatenation temporaries (sc_temp_heap): 3 MiB,
  // zeroed at load, which every fork copied page by page. While nothing has
  // been allocated from it (the model uses no sc_dt concatenation), dropping
  // its pages gives the same zeros back on any later touch.
  sc_core::sc_byte_heap& heap = sc_core::sc_temp_heap;
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  char* const begin = heap.m_bgn_p + (page - reinterpret_cast<std::uintptr_t>(heap.m_bgn_p) % page) % page;
  char* const end = heap.m_end_p - reinterpret_cast<std::uintptr_t>(heap.m_end_p) % page;
  if (heap.m_next_p == heap.m_bgn_p && end > begin)
    ::madvise(begin, static_cast<std::size_t>(end - begin), MADV_DONTNEED);
  ::malloc_trim(0);
}

void request_interrupt(int signal_number) { g_interrupt = signal_number; }
int interrupt_signal() { return static_cast<int>(g_interrupt); }

RunResult run_simulation(const Scenario& scenario, const RunOptions& options) {
  Bench& b = the_bench();
  build(b, scenario, options);
  return simulate(b, scenario, options);
}

void elaborate_simulation(const Scenario& scenario, const FixSet& fixes) {
  RunOptions options;  // no VCD, log or trace; the seed is each run's (run_elaborated)
  options.fixes = fixes;
  build(the_bench(), scenario, options);
  // SystemC's own preparation too (its thread stacks, the processes made
  // runnable), without running any: sc_start in the child goes on from it.
  sc_core::sc_get_curr_simcontext()->initialize(true);
}

RunResult run_elaborated(const Scenario& scenario, const RunOptions& options) {
  Bench& b = the_bench();
  if (!b.kernel) throw std::logic_error("run_elaborated: no model was elaborated in this process");
  // No VCD (its tracer is chosen at elaboration), no log or trace (they
  // start with what elaboration printed).
  if (!options.vcd_path.empty() || !options.log_path.empty() || !options.trace_path.empty())
    throw std::logic_error("run_elaborated: a model elaborated for a campaign writes no VCD, log or trace");
  reseed(b, scenario.params, options.seed);
  return simulate(b, scenario, options);
}

}  // namespace qedisim
