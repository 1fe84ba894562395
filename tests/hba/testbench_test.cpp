// run_simulation end to end through the full stack: the default workload
// completes and the run ends quiescent; a lost response keeps it to stop_at.
#define BOOST_TEST_MODULE qedisim_testbench
#define BOOST_TEST_NO_MAIN
#include "sim/testbench.h"

#include <boost/test/unit_test.hpp>
#include <systemc>

using namespace qedisim;

namespace {
Scenario two_lun_scenario() {
  Scenario s;
  s.name = "test";
  s.stop_at = Duration::from_s(60);
  s.sessions = {SessionSpec{2, {}}};
  WorkloadStream r;
  r.lun = 0;
  r.ops = 2000;
  r.depth = 16;
  WorkloadStream w = r;
  w.lun = 1;
  w.op = OpKind::write;
  s.workload = {r, w};
  return s;
}
}  // namespace

BOOST_AUTO_TEST_CASE(default_workload_runs_to_quiescence) {
  const auto r = run_simulation(two_lun_scenario(), RunOptions{});
  BOOST_TEST(r.end_reason == "quiescent");
  BOOST_TEST(r.counters.at("cmds_issued") == 4000);
  BOOST_TEST(r.counters.at("cmds_completed") == 4000);
  BOOST_TEST(r.counters.at("cmds_failed") == 0);
  BOOST_TEST(r.counters.at("tids_in_use") == 0);
  BOOST_TEST(r.counters.at("fw_tids_in_use") == 0);
  // The login (iscsid.login_latency, 5 ms), then 125 rounds of depth 16; a
  // round is the target's service time (median 100us, p99 400us: mean
  // ~119us) plus ~2us in the host and card: about 20 ms in all.
  BOOST_TEST(r.sim_time_ns > 18'000'000);
  BOOST_TEST(r.sim_time_ns < 23'000'000);
}

BOOST_AUTO_TEST_CASE(dropped_response_runs_to_stop_at) {
  Scenario s = two_lun_scenario();
  s.stop_at = Duration::from_s(2);
  Failpoint f;
  f.point = "target.scsi_rsp";
  f.match.nth.list = {5};
  f.action.kind = FailAction::Kind::drop;
  s.failpoints = {f};
  const auto r = run_simulation(s, RunOptions{});
  BOOST_TEST(r.end_reason == "stop_at");
  BOOST_TEST(r.sim_time_ns == 2'000'000'000);
  BOOST_TEST(r.counters.at("cmds_completed") == 3999);
  BOOST_TEST(r.counters.at("tids_in_use") == 1);
  BOOST_TEST(r.counters.at("target_scsi_rsps_dropped") == 1);
}

int sc_main(int argc, char* argv[]) { return boost::unit_test::unit_test_main(&init_unit_test, argc, argv); }
