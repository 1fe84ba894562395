// The loader on good input: every key of docs/scenarios.md parsed, defaults applied.
#include "sim/scenario/loader.h"

#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <sstream>

using namespace qedisim;

namespace {
Scenario load(const std::string& text) { return load_scenario_text(text, "test.yaml"); }
}  // namespace

BOOST_AUTO_TEST_SUITE(loader)

BOOST_AUTO_TEST_CASE(minimal_file_gets_the_documented_defaults) {
  const Scenario s = load("qedisim: 1\nname: tiny\n");
  BOOST_TEST(s.name == "tiny");
  BOOST_TEST(s.seed == 1u);
  BOOST_TEST(s.stop_at.ns == Duration::from_s(600).ns);
  BOOST_TEST((s.fixes == FixSet::all()));
  BOOST_REQUIRE(s.sessions.size() == 1u);
  BOOST_TEST(s.sessions[0].luns == 1u);
  BOOST_TEST(s.workload.empty());
  BOOST_TEST(s.expect.fixed.empty());
  BOOST_TEST(!s.expect.reverted.has_value());
  BOOST_TEST(s.params.session_abort_timeout.ns == Duration::from_s(15).ns);
  BOOST_TEST(s.params.hba_tids == 4096u);
  BOOST_TEST(s.params.scsi_requeue_delay.ns == Duration::from_ms(3).ns);
}

BOOST_AUTO_TEST_CASE(spec_example_parses_completely) {
  const Scenario s = load(R"(qedisim: 1
name: p11-tmf-tid-leak
about: >
  Every ABORT TASK allocates a firmware tid twice and frees it once.
patch: p11
seed: 7
stop_at: 120s
fixes: all
params:
  hba.tids: 64
  scsi.cmd_timeout: 2s
  session.abort_timeout: 5s
sessions:
  - luns: 2
workload:
  - {session: 0, lun: 0, ops: 20, depth: 4, start: 0s, op: read, size: 4k}
failpoints:
  - point: target.scsi_rsp
    match: {lun: 0, nth: [3, 4]}
    action: drop
  - point: target.tmf_rsp
    match: {function: abort_task}
    action: {delay: 10ms}
actions:
  - at: 30s
    do: iscsid.terminate
    args: {unbind_target: false}
  - on: {point: qedi.abort_work.cleanup_wait, nth: 1}
    do: iscsid.ep_disconnect
expect:
  fixed: []
  reverted: [tid_leak]
  final: {tids_in_use: 0, eh_max_level: abort}
)");
  BOOST_TEST(s.about == "Every ABORT TASK allocates a firmware tid twice and frees it once.\n");
  BOOST_TEST(patch_name(*s.patch) == "p11");
  BOOST_TEST(s.seed == 7u);
  BOOST_TEST(s.stop_at.ns == Duration::from_s(120).ns);
  BOOST_TEST(s.params.hba_tids == 64u);
  BOOST_TEST(s.params.scsi_cmd_timeout.ns == Duration::from_s(2).ns);
  BOOST_TEST(s.written_params.size() == 3u);
  BOOST_TEST(s.sessions[0].luns == 2u);
  BOOST_REQUIRE(s.workload.size() == 1u);
  BOOST_TEST(s.workload[0].depth == 4u);
  BOOST_TEST(s.workload[0].size == 4096u);
  BOOST_REQUIRE(s.failpoints.size() == 2u);
  BOOST_TEST(s.failpoints[0].match.nth.list == (std::vector<std::uint64_t>{3, 4}), boost::test_tools::per_element());
  BOOST_TEST((s.failpoints[0].action.kind == FailAction::Kind::drop));
  BOOST_TEST((s.failpoints[1].action.kind == FailAction::Kind::delay));
  BOOST_TEST(s.failpoints[1].action.delay.ns == Duration::from_ms(10).ns);
  BOOST_TEST((*s.failpoints[1].match.function == TmfFunction::abort_task));
  BOOST_REQUIRE(s.actions.size() == 2u);
  BOOST_TEST(s.actions[0].at->ns == Duration::from_s(30).ns);
  BOOST_TEST(!s.actions[0].args.unbind_target);
  BOOST_TEST(s.actions[1].on->point == "qedi.abort_work.cleanup_wait");
  BOOST_TEST((s.actions[1].kind == ActionKind::iscsid_ep_disconnect));
  BOOST_REQUIRE(s.expect.reverted.has_value());
  BOOST_TEST((s.expect.reverted->at(0) == InvariantId::tid_leak));
  BOOST_TEST(*s.expect.final.tids_in_use == 0);
  BOOST_TEST((*s.expect.final.eh_max_level == EhLevel::abort));
  BOOST_TEST(s.reverted_fixes().fixed(Patch::p11) == false);
  BOOST_TEST(s.reverted_fixes().fixed(Patch::p10) == true);
}

BOOST_AUTO_TEST_CASE(durations_are_exact) {
  auto stop = [](const char* v) { return load(std::string("qedisim: 1\nname: d\nstop_at: ") + v + "\n").stop_at.ns; };
  BOOST_TEST(stop("1.5ms") == 1'500'000);
  BOOST_TEST(stop("2050ms") == 2'050'000'000);
  BOOST_TEST(stop("0.001s") == 1'000'000);
  BOOST_TEST(stop("7ns") == 7);
  BOOST_TEST(stop("1.250us") == 1250);
  BOOST_TEST(stop("3s") == 3'000'000'000);
}

BOOST_AUTO_TEST_CASE(sizes_accept_k_and_m) {
  const Scenario s = load(
      "qedisim: 1\nname: s\nworkload:\n  - {ops: 1, size: 512}\n  - {ops: 1, size: 64k}\n"
      "  - {ops: 1, size: 1m}\n");
  BOOST_TEST(s.workload[0].size == 512u);
  BOOST_TEST(s.workload[1].size == 65536u);
  BOOST_TEST(s.workload[2].size == 1048576u);
}

BOOST_AUTO_TEST_CASE(fix_sets) {
  auto fixes = [](const char* v) { return load(std::string("qedisim: 1\nname: f\nfixes: ") + v + "\n").fixes; };
  BOOST_TEST(fixes("none").names().empty());
  const FixSet except = fixes("{except: [p11, p02]}");
  BOOST_TEST(!except.fixed(Patch::p11));
  BOOST_TEST(!except.fixed(Patch::p02));
  BOOST_TEST(except.fixed(Patch::p10));
  const FixSet only = fixes("{only: [p06, p11]}");
  BOOST_TEST(only.names() == (std::vector<std::string>{"p06", "p11"}), boost::test_tools::per_element());
  // p10 needs p01's iscsi_task_is_completed (a hard dependency, FixSet::effective).
  BOOST_TEST(!fixes("{except: [p01]}").effective().fixed(Patch::p10));
  BOOST_TEST(fixes("{only: [p10]}").effective().names().empty());
}

BOOST_AUTO_TEST_CASE(nth_every_and_abort_args) {
  const Scenario s = load(R"(qedisim: 1
name: n
workload:
  - {ops: 4}
  - {ops: 9, lun: 0}
failpoints:
  - {point: target.scsi_rsp, match: {nth: {every: 4}}, action: drop}
  - {point: mem.alloc, match: {gfp: atomic, site: qedi_abort_work, nth: [1]}, action: fail}
actions:
  - {at: 1s, do: scsi.abort, args: {stream: 1, op: 8}}
  - {at: 1s, do: iscsid.stop_conn, args: {flag: recover}}
  - {at: 2s, do: scsi.reset, args: {level: target}}
  - {at: 3s, do: hba.remove}
)");
  BOOST_TEST(s.failpoints[0].match.nth.every == 4u);
  BOOST_TEST(s.failpoints[0].match.nth.matches(8));
  BOOST_TEST(!s.failpoints[0].match.nth.matches(9));
  BOOST_TEST(*s.failpoints[1].match.site == "qedi_abort_work");
  BOOST_TEST(s.actions[0].args.stream == 1u);
  BOOST_TEST(s.actions[0].args.op == 8u);
  BOOST_TEST((s.actions[1].args.flag == StopFlag::recover));
  BOOST_TEST((s.actions[2].args.level == ResetLevel::target));
}

BOOST_AUTO_TEST_CASE(scaling_touches_only_written_durations) {
  const Scenario s = load(R"(qedisim: 1
name: scale
stop_at: 10s
params: {session.abort_timeout: 5s, hba.tids: 64}
workload:
  - {ops: 1, start: 100ms}
failpoints:
  - {point: fw.cleanup, action: {delay: 200ms}}
actions:
  - {at: 1s, do: link.down}
)");
  const Scenario t = s.scaled(1.2);
  BOOST_TEST(t.stop_at.ns == Duration::from_s(12).ns);
  BOOST_TEST(t.params.session_abort_timeout.ns == Duration::from_s(6).ns);
  BOOST_TEST(t.params.hba_tids == 64u);
  BOOST_TEST(t.params.scsi_cmd_timeout.ns == Duration::from_s(30).ns);  // default, not written: unchanged
  BOOST_TEST(t.workload[0].start.ns == Duration::from_ms(120).ns);
  BOOST_TEST(t.failpoints[0].action.delay.ns == Duration::from_ms(240).ns);
  BOOST_TEST(t.actions[0].at->ns == Duration::from_ms(1200).ns);
}

BOOST_AUTO_TEST_CASE(every_shipped_config_loads) {
  namespace fs = std::filesystem;
  int n = 0;
  for (const auto& e : fs::directory_iterator(fs::path(QEDISIM_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".yaml") continue;
    BOOST_TEST_CONTEXT(e.path().filename().string()) { BOOST_CHECK_NO_THROW(load_scenario_file(e.path().string())); }
    ++n;
  }
  BOOST_TEST(n >= 1);
}

BOOST_AUTO_TEST_SUITE_END()

// Schema v2 (README "Schema version 2"): a strict superset of v1 that adds
// random failpoint actions drawn from the run's seed.
BOOST_AUTO_TEST_SUITE(loader_v2)

BOOST_AUTO_TEST_CASE(delay_range_and_drop_probability_parse) {
  const Scenario s = load(R"(qedisim: 2
name: v2
failpoints:
  - point: qedi.abort_work.cleanup_wait
    action: {delay: {min: 1ms, max: 2.5ms}}
  - point: target.scsi_rsp
    match: {lun: 0, nth: {every: 2}}
    action: {drop: {probability: 0.25}}
  - point: target.tmf_rsp
    action: {drop: {probability: 1}}
  - point: fw.cleanup
    action: {delay: {min: 0s, max: 0s}}
)");
  BOOST_TEST(s.schema == 2);
  BOOST_REQUIRE(s.failpoints.size() == 4u);
  const FailAction& range = s.failpoints[0].action;
  BOOST_TEST((range.kind == FailAction::Kind::delay));
  BOOST_TEST(range.delay.ns == Duration::from_ms(1).ns);
  BOOST_REQUIRE(range.delay_max.has_value());
  BOOST_TEST(range.delay_max->ns == 2'500'000);
  const FailAction& drop = s.failpoints[1].action;
  BOOST_TEST((drop.kind == FailAction::Kind::drop));
  BOOST_TEST(drop.drop_probability == 0.25);
  BOOST_TEST(s.failpoints[1].match.nth.every == 2u);
  BOOST_TEST(s.failpoints[2].action.drop_probability == 1.0);
  BOOST_TEST(s.failpoints[3].action.delay_max->ns == 0);
}

BOOST_AUTO_TEST_CASE(v1_actions_keep_their_meaning_in_v2) {
  const Scenario s = load(R"(qedisim: 2
name: v1-actions
failpoints:
  - {point: target.scsi_rsp, action: drop}
  - {point: fw.cleanup, action: {delay: 3ms}}
  - {point: mem.alloc, action: fail}
  - {point: target.tmf_rsp, action: {respond: no_task}}
)");
  BOOST_TEST((s.failpoints[0].action.kind == FailAction::Kind::drop));
  BOOST_TEST(s.failpoints[0].action.drop_probability == 1.0);
  BOOST_TEST(!s.failpoints[1].action.delay_max.has_value());
  BOOST_TEST(s.failpoints[1].action.delay.ns == Duration::from_ms(3).ns);
  BOOST_TEST((s.failpoints[2].action.kind == FailAction::Kind::fail));
  BOOST_TEST((s.failpoints[3].action.respond == TmfRespond::no_task));
}

BOOST_AUTO_TEST_CASE(every_shipped_config_means_the_same_as_v2) {
  namespace fs = std::filesystem;
  for (const auto& e : fs::directory_iterator(fs::path(QEDISIM_SOURCE_DIR) / "configs")) {
    if (e.path().extension() != ".yaml") continue;
    BOOST_TEST_CONTEXT(e.path().filename().string()) {
      std::ifstream in(e.path());
      std::stringstream buf;
      buf << in.rdbuf();
      std::string text = buf.str();
      if (text.rfind("qedisim: 2", 0) == 0) continue;  // written for v2 (it uses a v2 key)
      const Scenario v1 = load(text);
      const auto at = text.find("qedisim: 1");
      BOOST_REQUIRE(at != std::string::npos);
      text.replace(at, 10, "qedisim: 2");
      const Scenario v2 = load(text);
      BOOST_TEST(v2.schema == 2);
      BOOST_TEST(v1.seed == v2.seed);
      BOOST_TEST(v1.stop_at.ns == v2.stop_at.ns);
      BOOST_TEST((v1.fixes == v2.fixes));
      BOOST_TEST(v1.written_params == v2.written_params, boost::test_tools::per_element());
      BOOST_TEST(v1.workload.size() == v2.workload.size());
      BOOST_TEST(v1.actions.size() == v2.actions.size());
      BOOST_REQUIRE(v1.failpoints.size() == v2.failpoints.size());
      for (std::size_t i = 0; i < v1.failpoints.size(); ++i) {
        const FailAction& a = v1.failpoints[i].action;
        const FailAction& b = v2.failpoints[i].action;
        BOOST_TEST((a.kind == b.kind));
        BOOST_TEST(a.delay.ns == b.delay.ns);
        BOOST_TEST(!b.delay_max.has_value());
        BOOST_TEST(b.drop_probability == 1.0);
      }
    }
  }
}

BOOST_AUTO_TEST_CASE(scaling_scales_both_ends_of_a_range) {
  const Scenario s = load(
      "qedisim: 2\nname: r\nfailpoints:\n  - {point: fw.cleanup, action: {delay: {min: 10ms, "
      "max: 20ms}}}\n");
  const Scenario t = s.scaled(0.8);
  BOOST_TEST(t.failpoints[0].action.delay.ns == Duration::from_ms(8).ns);
  BOOST_TEST(t.failpoints[0].action.delay_max->ns == Duration::from_ms(16).ns);
}

BOOST_AUTO_TEST_CASE(v2_keys_in_a_v1_file_name_the_version_they_need) {
  try {
    load("qedisim: 1\nname: x\nfailpoints:\n  - {point: fw.cleanup, action: {delay: {min: 1ms, max: 2ms}}}\n");
    BOOST_FAIL("a v1 file with a delay range was accepted");
  } catch (const ScenarioError& e) {
    BOOST_TEST(e.message().find("needs qedisim: 2") != std::string::npos);
    BOOST_TEST(e.line() == 4);
  }
  BOOST_CHECK_THROW(load("qedisim: 1\nname: x\nfailpoints:\n  - {point: target.scsi_rsp, action: {drop: "
                         "{probability: 0.5}}}\n"),
                    ScenarioError);
}

BOOST_AUTO_TEST_SUITE_END()
