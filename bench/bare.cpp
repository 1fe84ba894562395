// The model and SystemC alone, no checker observing: `qedisim_bare FILE`
// runs a scenario (all fixes on, its own seed) with RunOptions::observe
// false and prints "<cmds_completed> <simulated ns> <wall seconds>". bench/run
// measures its instructions per command beside qedisim's, to show what the
// checkers cost and what the model itself does. Nothing is checked: not a
// way to run a scenario, and not reachable from the qedisim CLI.
#include <fmt/format.h>

#include <cstdlib>
#include <exception>
#include <systemc>

#include "sim/explore/child_heap.h"
#include "sim/scenario/loader.h"
#include "sim/testbench.h"

namespace {
__attribute__((constructor(101))) void quiet_systemc_banner() { ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0); }
}  // namespace

int sc_main(int argc, char** argv) {
  if (argc != 2) {
    fmt::print(stderr, "usage: qedisim_bare FILE (a scenario; runs it with no checker observing)\n");
    return 2;
  }
  qedisim::begin_child_heap(qedisim::HeapPages::populate_ahead);  // as `qedisim run` does
  try {
    const qedisim::Scenario s = qedisim::load_scenario_file(argv[1]);
    qedisim::RunOptions ro;
    ro.fixes = s.fixes.effective();
    ro.seed = s.seed;
    ro.observe = false;
    const qedisim::RunResult r = qedisim::run_simulation(s, ro);
    fmt::print("{} {} {:.6f}\n", r.counters.at("cmds_completed"), r.sim_time_ns, r.sim_wall_s);
    return 0;
  } catch (const std::exception& e) {
    fmt::print(stderr, "qedisim_bare: {}\n", e.what());
    return 2;
  }
}
