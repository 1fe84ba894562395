// Swarm's scenario generator (issue 20) without a simulation: every draw is
// a scenario the loader accepts unchanged, the same seed draws the same
// scenario, and the draws cover the ranges docs/swarm.md promises.
#define BOOST_TEST_MODULE qedisim_swarm
#include <boost/test/unit_test.hpp>
#include <map>
#include <set>

#include "sim/explore/campaign.h"
#include "sim/explore/scenario_yaml.h"
#include "sim/explore/seeds.h"
#include "sim/explore/swarm_draw.h"
#include "sim/scenario/loader.h"

using namespace qedisim;

BOOST_AUTO_TEST_CASE(ten_thousand_draws_load_unchanged) {
  std::size_t failures = 0;
  for (std::uint64_t i = 0; i < 10000; ++i) {
    const std::uint64_t seed = derive_seed(1, i);
    const SwarmDraw d = draw_swarm_scenario(seed);
    const std::string text = scenario_to_yaml(d.scenario);
    try {
      const Scenario loaded = load_scenario_text(text, "draw.yaml");
      // Unchanged: what the loader read writes back to the same text.
      if (scenario_to_yaml(loaded) != text) {
        if (++failures <= 3) BOOST_ERROR("draw " << i << " (seed " << seed << ") reads back differently:\n" << text);
      }
    } catch (const ScenarioError& e) {
      if (++failures <= 3) BOOST_ERROR("draw " << i << " (seed " << seed << ") refused: " << e.what() << "\n" << text);
    }
  }
  BOOST_TEST(failures == 0u);
}

BOOST_AUTO_TEST_CASE(same_seed_same_scenario_other_seed_other_scenario) {
  BOOST_TEST(scenario_to_yaml(draw_swarm_scenario(42).scenario) == scenario_to_yaml(draw_swarm_scenario(42).scenario));
  std::set<std::string> texts;
  for (std::uint64_t s = 0; s < 200; ++s) texts.insert(scenario_to_yaml(draw_swarm_scenario(s).scenario));
  BOOST_TEST(texts.size() == 200u);
  const SwarmDraw d = draw_swarm_scenario(7);
  BOOST_TEST(d.scenario.seed == 7u);
  BOOST_TEST(d.scenario.schema == 2);
}

BOOST_AUTO_TEST_CASE(draws_cover_topologies_fault_kinds_and_actions) {
  const std::uint64_t n = 4000;
  std::map<std::string, std::uint64_t> kinds;
  std::set<std::size_t> session_counts;
  std::set<ActionKind> actions;
  std::set<std::string> points;
  for (std::uint64_t i = 0; i < n; ++i) {
    const SwarmDraw d = draw_swarm_scenario(derive_seed(9, i));
    for (const auto& k : d.kinds) ++kinds[k];
    session_counts.insert(d.scenario.sessions.size());
    BOOST_TEST(d.scenario.sessions.size() >= 1u);
    BOOST_TEST(d.scenario.sessions.size() <= 8u);
    BOOST_TEST(!d.scenario.workload.empty());
    for (const auto& a : d.scenario.actions) actions.insert(a.kind);
    for (const auto& f : d.scenario.failpoints) points.insert(f.point);
  }
  // Each kind is switched on in about half the draws (swarm testing).
  BOOST_TEST(kinds.size() == swarm_fault_kinds().size());
  for (const auto& [k, c] : kinds) {
    BOOST_TEST_INFO(k);
    BOOST_TEST(c > n * 45 / 100);
    BOOST_TEST(c < n * 55 / 100);
  }
  BOOST_TEST(session_counts.size() == 8u);  // 1..8 sessions
  // Every control action but those only a hand-written file needs.
  for (auto a : {ActionKind::iscsid_logout, ActionKind::iscsid_terminate, ActionKind::iscsid_ep_disconnect,
                 ActionKind::iscsid_destroy_conn, ActionKind::iscsid_stop_conn, ActionKind::iscsid_relogin,
                 ActionKind::link_down, ActionKind::link_up, ActionKind::scsi_reset, ActionKind::scsi_abort,
                 ActionKind::hba_remove}) {
    BOOST_TEST_INFO(to_string(a));
    BOOST_TEST(actions.count(a) == 1u);
  }
  for (const char* p : {"target.scsi_rsp", "target.tmf_rsp", "target.logout_rsp", "fw.cqe", "fw.cleanup", "mem.alloc",
                        "qedi.abort_work.ldel_exit", "libiscsi.exec_task_mgmt_fn.wait"}) {
    BOOST_TEST_INFO(p);
    BOOST_TEST(points.count(p) == 1u);
  }
}

BOOST_AUTO_TEST_CASE(swarm_coverage_survives_json_and_merge) {
  auto part = [](std::uint64_t shard) {
    Campaign c;
    c.scenario = "swarm";
    c.runs_total = 4;
    c.shard_count = 2;
    c.shards = {shard};
    for (std::uint64_t i = shard; i < 4; i += 2) {
      RunSummary r;
      r.run = i;
      r.seed = derive_seed(1, i);
      r.session_transitions = {{"LOGGED_IN->FAILED", 1 + i}};
      r.eh_max_level = i == 3 ? "device" : "none";
      r.fault_kinds = {"resets"};
      c.add(r);
    }
    return Campaign::from_json(c.to_json());
  };
  const Campaign m = merge_campaigns({part(0), part(1)});
  BOOST_TEST(m.session_transitions.at("LOGGED_IN->FAILED").runs == 4u);
  BOOST_TEST(m.session_transitions.at("LOGGED_IN->FAILED").occurrences == 10u);
  BOOST_TEST(m.eh_levels.at("none").runs == 3u);
  BOOST_TEST(m.eh_levels.at("device").runs == 1u);
  BOOST_TEST(m.fault_kinds.at("resets").runs == 4u);
  BOOST_TEST(m.file.empty());
}

// libsystemc.so, pulled in by the testbench the explore library links,
// references sc_main; sanitizer builds keep the library (as explore_test.cpp).
extern "C" int sc_main(int, char**) { return 0; }
