// Builds one simulation from a Scenario and runs it to the end. SystemC can
// elaborate once per process: call run_simulation at most once per process
// (`check` forks a child per run).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "host_driver_model/fixes.h"
#include "sim/checkers/violation.h"
#include "sim/scenario/scenario.h"

namespace qedisim {

struct RunOptions {
  FixSet fixes;  // effective set, dependencies already applied
  std::uint64_t seed = 1;
  std::string vcd_path;    // empty: no VCD
  std::string log_path;    // --log: the kernel-style text log (empty: none)
  std::string log_filter;  // --log-filter: layers and sessions, comma-separated (empty: all)
  std::string trace_path;  // --trace: Chrome trace-event JSON (empty: none)
  // false: no checker observes the model (nothing is checked, the verdict is
  // meaningless). Only for bench/qedisim_bare, which measures what the model
  // and SystemC cost without them; the CLI always observes.
  bool observe = true;
  // true: a campaign child's run (explore, swarm), whose answer
  // (encode_payload) carries the violations, the coverage maps, the EH
  // level and the end reason only. What only a report shows is then
  // neither built nor kept: RunResult::warnings (data_race's findings) and
  // RunResult::counters stay empty. Everything else of the run is the same.
  bool campaign_answer_only = false;
};

struct RunResult {
  std::int64_t sim_time_ns = 0;
  // Report counters by name; at least tids_in_use, cmds_completed,
  // cmds_failed, cmds_issued. Ordered, so reports are deterministic.
  std::map<std::string, std::int64_t> counters;
  EhLevel eh_max_level = EhLevel::none;
  std::vector<Violation> violations;
  std::vector<Violation> warnings;
  std::string end_reason;  // "quiescent", "stop_at", "interrupted"
  // Occurrences of every failpoint reached (coverage for `explore`; not in the report).
  std::map<std::string, std::uint64_t> points_reached;
  // libiscsi tmf_state transitions ("QUEUED->TIMEDOUT") and their counts (explore coverage).
  std::map<std::string, std::uint64_t> tmf_transitions;
  // libiscsi session->state transitions ("LOGGED_IN->FAILED") and their counts (swarm coverage).
  std::map<std::string, std::uint64_t> session_transitions;
  // Wall time of the simulation itself (sc_start, after elaboration), for
  // `run --timing` and the benchmarks: never in a report, it differs run to run.
  double sim_wall_s = 0;
  long sim_page_faults = 0;  // minor page faults taken by the process meanwhile
};

// Set from a SIGINT/SIGTERM handler: the run stops at its next model activity
// and returns with end_reason "interrupted".
void request_interrupt(int signal_number);
int interrupt_signal();

RunResult run_simulation(const Scenario& scenario, const RunOptions& options);

// Before forking many children: gives back memory the children would copy
// page by page and never use (SystemC's 3 MiB scratch heap of sc_dt
// concatenation temporaries, zeroed at load, and malloc's free pages).
void release_scratch_memory();

// For a campaign of runs that differ only in their seed (explore): the
// parent elaborates the model once, without running it, and each forked
// child runs that copy with its own seed. A child saves the elaboration
// (~0.6 M instructions, a quarter of a p11 run) and the page faults of the
// allocations it makes. The model built is the one run_simulation builds
// with the same fixes and no VCD: construction draws from no generator, and
// run_elaborated restarts every generator from its seed. Call
// elaborate_simulation at most once per process, and not with
// run_simulation.
void elaborate_simulation(const Scenario& scenario, const FixSet& fixes);
// Runs the model elaborate_simulation built (in a child: a model runs once)
// with `options`' seed. No VCD, log or trace: the log starts with what
// elaboration printed.
RunResult run_elaborated(const Scenario& scenario, const RunOptions& options);

}  // namespace qedisim
