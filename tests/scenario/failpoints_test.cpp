// Failpoint matching: keys, nth counting among matching occurrences, and
// `on:` actions firing before the point's own action.
#include "sim/failpoints/failpoints.h"

#include <boost/test/unit_test.hpp>

#include "sim/scenario/loader.h"

using namespace qedisim;

BOOST_AUTO_TEST_SUITE(failpoints)

BOOST_AUTO_TEST_CASE(nth_counts_only_occurrences_matching_the_other_keys) {
  const Scenario s = load_scenario_text(R"(qedisim: 1
name: fp
sessions: [{luns: 2}]
failpoints:
  - {point: target.scsi_rsp, match: {lun: 1, nth: [2]}, action: drop}
  - {point: target.tmf_rsp, match: {function: abort_task}, action: {respond: no_task}}
  - {point: fw.cleanup, action: {delay: 5ms}}
  - {point: fw.cleanup, match: {nth: [2]}, action: {delay: 1ms}}
)",
                                        "fp.yaml");
  Failpoints fp(s.failpoints, s.actions);
  auto rsp = [&](std::uint32_t lun) { return fp.hit(PointEvent{"target.scsi_rsp", 0u, lun}).drop; };
  BOOST_TEST(!rsp(0));
  BOOST_TEST(!rsp(1));  // first lun-1 response
  BOOST_TEST(!rsp(0));
  BOOST_TEST(rsp(1));  // second lun-1 response
  BOOST_TEST(!rsp(1));

  PointEvent tmf{"target.tmf_rsp"};
  tmf.function = TmfFunction::lu_reset;
  BOOST_TEST(!fp.hit(tmf).respond.has_value());
  tmf.function = TmfFunction::abort_task;
  BOOST_TEST((*fp.hit(tmf).respond == TmfRespond::no_task));

  BOOST_TEST(fp.hit(PointEvent{"fw.cleanup"}).delay.ns == 5'000'000);
  BOOST_TEST(fp.hit(PointEvent{"fw.cleanup"}).delay.ns == 6'000'000);  // both entries apply
  BOOST_TEST(fp.occurrences().at("target.scsi_rsp") == 5u);
}

// Occurrences are counted by the point's text: a name at another address
// counts with it, and another name at an address seen before does not.
BOOST_AUTO_TEST_CASE(occurrences_count_by_text_not_by_address) {
  const Scenario s = load_scenario_text(R"(qedisim: 1
name: occ
failpoints:
  - {point: fw.cleanup, match: {nth: [3]}, action: {delay: 1ms}}
)",
                                        "occ.yaml");
  Failpoints fp(s.failpoints, s.actions);
  std::string buf = "fw.cleanup";
  BOOST_TEST(fp.hit(PointEvent{"fw.cleanup"}).delay.ns == 0);
  BOOST_TEST(fp.hit(PointEvent{buf}).delay.ns == 0);  // same text, another address
  buf = "fw.cqe....";                                 // same address, another text
  BOOST_TEST(fp.hit(PointEvent{buf}).delay.ns == 0);
  buf = "fw.cleanup";
  BOOST_TEST(fp.hit(PointEvent{buf}).delay.ns == 1'000'000);  // the third fw.cleanup
  BOOST_TEST(fp.occurrences().at("fw.cleanup") == 3u);
  BOOST_TEST(fp.occurrences().at("fw.cqe....") == 1u);
}

BOOST_AUTO_TEST_CASE(cq_selects_the_completion_queue_and_needs_hba_cpus) {
  const Scenario s = load_scenario_text(R"(qedisim: 2
name: cq
params: {hba.cpus: 4}
failpoints:
  - {point: fw.cqe, match: {cq: 3, type: solicited}, action: {delay: 2ms}}
)",
                                        "cq.yaml");
  Failpoints fp(s.failpoints, s.actions);
  auto cqe = [&](std::uint32_t cq, CqeType type) {
    PointEvent ev{"fw.cqe"};
    ev.cq = cq;
    ev.type = type;
    return fp.hit(ev).delay.ns;
  };
  BOOST_TEST(cqe(0, CqeType::solicited) == 0);
  BOOST_TEST(cqe(3, CqeType::cleanup) == 0);
  BOOST_TEST(cqe(3, CqeType::solicited) == 2'000'000);
  // A CQE whose queue is not known matches no entry that names one.
  BOOST_TEST(fp.hit(PointEvent{"fw.cqe"}).delay.ns == 0);
  BOOST_CHECK_THROW(load_scenario_text("qedisim: 2\nname: cq\nparams: {hba.cpus: 4}\nfailpoints:\n"
                                       "  - {point: fw.cqe, match: {cq: 4}, action: {delay: 1ms}}\n",
                                       "cq4.yaml"),
                    ScenarioError);
}

BOOST_AUTO_TEST_CASE(on_actions_fire_at_their_occurrence_before_the_point_action) {
  const Scenario s = load_scenario_text(R"(qedisim: 1
name: on
failpoints:
  - {point: fw.cqe, action: {delay: 1ms}}
actions:
  - {on: {point: fw.cqe, nth: 2}, do: link.down}
  - {on: {point: fw.cqe, nth: 2}, do: link.up}
)",
                                        "on.yaml");
  std::vector<Action> on_actions;
  for (const auto& a : s.actions)
    if (a.on) on_actions.push_back(a);
  Failpoints fp(s.failpoints, on_actions);
  std::vector<ActionKind> fired;
  fp.set_action_runner([&](const Action& a) { fired.push_back(a.kind); });
  fp.hit(PointEvent{"fw.cqe"});
  BOOST_TEST(fired.empty());
  fp.hit(PointEvent{"fw.cqe"});
  BOOST_REQUIRE(fired.size() == 2u);
  BOOST_TEST((fired[0] == ActionKind::link_down));
  BOOST_TEST((fired[1] == ActionKind::link_up));
  fp.hit(PointEvent{"fw.cqe"});
  BOOST_TEST(fired.size() == 2u);
}

BOOST_AUTO_TEST_SUITE_END()
