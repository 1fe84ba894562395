// Exploration pieces, mostly without a simulation: seeds, the scenario
// writer, schema v2's random draws, campaign results and their merge, the
// child heap, ForkPool's reused workers; one case runs p11 in two forked
// children (a campaign child's answer against the full run's).
#define BOOST_TEST_MODULE qedisim_explore
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <numeric>
#include <set>
#include <sstream>

#include "sim/explore/campaign.h"
#include "sim/explore/child_heap.h"
#include "sim/explore/fork_pool.h"
#include "sim/explore/payload.h"
#include "sim/explore/restore_point.h"
#include "sim/explore/scenario_yaml.h"
#include "sim/explore/seeds.h"
#include "sim/failpoints/failpoints.h"
#include "sim/scenario/loader.h"
#include "sim/testbench.h"

using namespace qedisim;
namespace fs = std::filesystem;

namespace {
Scenario load(const std::string& text) { return load_scenario_text(text, "test.yaml"); }

std::vector<fs::path> shipped_configs() {
  std::vector<fs::path> out;
  for (const char* dir : {"configs", "configs/explore"})
    for (const auto& e : fs::directory_iterator(fs::path(QEDISIM_SOURCE_DIR) / dir))
      if (e.path().extension() == ".yaml") out.push_back(e.path());
  out.push_back(fs::path(QEDISIM_SOURCE_DIR) / "tests/explore/v2-random-tmf.yaml");
  return out;
}

const char* kV2 = R"(qedisim: 2
name: draws
failpoints:
  - point: fw.cleanup
    action: {delay: {min: 1ms, max: 3ms}}
  - point: target.scsi_rsp
    action: {drop: {probability: 0.25}}
)";

std::vector<std::int64_t> draws(std::uint64_t seed, std::size_t n) {
  const Scenario s = load(kV2);
  Failpoints fp(s.failpoints, {}, seed);
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(fp.hit(PointEvent{"fw.cleanup"}).delay.ns);
    out.push_back(fp.hit(PointEvent{"target.scsi_rsp", 0u, 0u}).drop ? 1 : 0);
  }
  return out;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(seeds)

BOOST_AUTO_TEST_CASE(run_seeds_are_fixed_distinct_and_depend_on_the_base) {
  // splitmix64's first output from state 0 (the reference sequence).
  BOOST_TEST(derive_seed(0, 0) == 0xe220a8397b1dcdafull);
  std::set<std::uint64_t> seen;
  for (std::uint64_t i = 0; i < 10000; ++i) seen.insert(derive_seed(7, i));
  BOOST_TEST(seen.size() == 10000u);
  BOOST_TEST(derive_seed(7, 3) != derive_seed(8, 3));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(v2_draws)

BOOST_AUTO_TEST_CASE(same_seed_same_choices_other_seed_other_choices) {
  BOOST_TEST(draws(42, 200) == draws(42, 200), boost::test_tools::per_element());
  BOOST_TEST(draws(42, 200) != draws(43, 200));
}

BOOST_AUTO_TEST_CASE(delays_stay_in_range_and_drops_follow_the_probability) {
  const auto d = draws(5, 4000);
  std::int64_t lo = d[0], hi = d[0];
  std::size_t drops = 0;
  for (std::size_t i = 0; i < d.size(); i += 2) {
    lo = std::min(lo, d[i]);
    hi = std::max(hi, d[i]);
    drops += static_cast<std::size_t>(d[i + 1]);
  }
  BOOST_TEST(lo >= 1'000'000);
  BOOST_TEST(hi <= 3'000'000);
  BOOST_TEST(hi - lo > 1'900'000);  // spread over the range
  BOOST_TEST(drops > 850u);         // 1000 expected of 4000
  BOOST_TEST(drops < 1150u);
}

BOOST_AUTO_TEST_CASE(v1_actions_draw_nothing) {
  const Scenario s = load(
      "qedisim: 1\nname: v1\nfailpoints:\n  - {point: target.scsi_rsp, match: {nth: {every: 3}}, "
      "action: drop}\n  - {point: fw.cleanup, action: {delay: 2ms}}\n");
  Failpoints a(s.failpoints, {}, 1);
  Failpoints b(s.failpoints, {}, 999);
  for (int i = 0; i < 30; ++i) {
    BOOST_TEST(a.hit(PointEvent{"target.scsi_rsp"}).drop == b.hit(PointEvent{"target.scsi_rsp"}).drop);
    BOOST_TEST(a.hit(PointEvent{"fw.cleanup"}).delay.ns == 2'000'000);
  }
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(scenario_yaml)

BOOST_AUTO_TEST_CASE(every_shipped_config_reads_back_the_same) {
  for (const auto& path : shipped_configs()) {
    BOOST_TEST_CONTEXT(path.filename().string()) {
      const Scenario s = load_scenario_file(path.string());
      const std::string once = scenario_to_yaml(s);
      const Scenario back = load_scenario_text(once, "written.yaml");
      BOOST_TEST(scenario_to_yaml(back) == once);
      BOOST_TEST(back.schema == s.schema);
      BOOST_TEST((back.fixes == s.fixes));
      BOOST_TEST(back.seed == s.seed);
      BOOST_TEST(back.about == s.about);
      BOOST_TEST(back.failpoints.size() == s.failpoints.size());
      BOOST_TEST(back.actions.size() == s.actions.size());
      for (const auto& key : s.written_params)
        BOOST_TEST(param_value_string(back.params, key) == param_value_string(s.params, key));
    }
  }
}

BOOST_AUTO_TEST_CASE(v2_values_and_awkward_text_survive) {
  const Scenario s = load(R"(qedisim: 2
name: awkward
about: "quotes \" and: colons # and hashes\nand a second line"
seed: 18446744073709551615
fixes: {only: [p06, p11]}
sessions: [{luns: 2, cmds_max: 64}, {luns: 1}]
workload:
  - {session: 1, ops: 3, size: 1536, start: 1.5ms}
failpoints:
  - {point: mem.alloc, match: {gfp: atomic, site: "qedi_abort_work: odd", nth: [2, 5]}, action: fail}
  - {point: target.scsi_rsp, match: {session: 0, lun: 1}, action: {drop: {probability: 0.1}}}
  - {point: fw.cleanup, action: {delay: {min: 7ns, max: 1.25us}}}
actions:
  - {on: {point: fw.cqe, nth: 3}, do: scsi.abort, args: {stream: 0, op: 2}}
  - {at: 2s, do: iscsid.terminate, args: {session: 1, unbind_target: false}}
  - {at: 3s, do: hba.remove}
expect:
  fixed: [uaf]
  final: {eh_max_level: device, cmds_failed: 0}
)");
  const std::string text = scenario_to_yaml(s);
  const Scenario b = load_scenario_text(text, "written.yaml");
  BOOST_TEST(scenario_to_yaml(b) == text);
  BOOST_TEST(b.schema == 2);
  BOOST_REQUIRE(b.sessions.size() == 2u);
  BOOST_TEST(b.sessions[0].cmds_max.value_or(0) == 64u);
  BOOST_TEST(!b.sessions[1].cmds_max.has_value());
  BOOST_TEST(b.about == s.about);
  BOOST_TEST(b.seed == s.seed);
  BOOST_TEST((b.fixes == s.fixes));
  BOOST_TEST(b.sessions.size() == 2u);
  BOOST_TEST(b.workload[0].session == 1u);
  BOOST_TEST(b.workload[0].size == 1536u);
  BOOST_TEST(b.workload[0].start.ns == 1'500'000);
  BOOST_TEST(*b.failpoints[0].match.site == "qedi_abort_work: odd");
  BOOST_TEST(b.failpoints[0].match.nth.list == (std::vector<std::uint64_t>{2, 5}), boost::test_tools::per_element());
  BOOST_TEST(b.failpoints[1].action.drop_probability == 0.1);
  BOOST_TEST(b.failpoints[2].action.delay.ns == 7);
  BOOST_TEST(b.failpoints[2].action.delay_max->ns == 1250);
  BOOST_TEST(b.actions[0].on->nth == 3u);
  BOOST_TEST(b.actions[0].args.op == 2u);
  BOOST_TEST(!b.actions[1].args.unbind_target);
  BOOST_TEST(b.actions[1].args.session == 1u);
  BOOST_TEST((b.expect.fixed == std::vector<InvariantId>{InvariantId::uaf}));
  BOOST_TEST((*b.expect.final.eh_max_level == EhLevel::device));
  BOOST_TEST(*b.expect.final.cmds_failed == 0);
}

BOOST_AUTO_TEST_CASE(fix_sets_are_written_the_short_way) {
  FixSet s = FixSet::all();
  BOOST_TEST(fixes_to_yaml(s) == "all");
  s.set(Patch::p11, false);
  BOOST_TEST(fixes_to_yaml(s) == "{except: [p11]}");
  BOOST_TEST(fixes_to_yaml(FixSet::none()) == "none");
  FixSet only = FixSet::none();
  only.set(Patch::p06, true);
  BOOST_TEST(fixes_to_yaml(only) == "{only: [p06]}");
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(campaign)

namespace {
Campaign empty_campaign(std::uint64_t shard_count, std::uint64_t shard) {
  Campaign c;
  c.scenario = "t";
  c.file = "t.yaml";
  c.base_seed = 3;
  c.runs_total = 12;
  c.shard_count = shard_count;
  c.shards = {shard};
  c.expected = {"xmit_after_unbind"};
  return c;
}

RunSummary run(std::uint64_t i) {
  RunSummary r;
  r.run = i;
  r.seed = derive_seed(3, i);
  r.points_reached = {{"fw.cqe", i + 1}};
  r.tmf_transitions = {{"INITIAL->QUEUED", 1}};
  if (i % 2) r.tmf_transitions["QUEUED->TIMEDOUT"] = 2;
  if (i % 3 == 0)
    r.violations.push_back(Violation{InvariantId::xmit_after_unbind, 5, "c", "o", "qedi_task_xmit", "m", 1});
  if (i % 4 == 1) r.violations.push_back(Violation{InvariantId::tid_leak, 9, "c", "o", "qedi_tmf_work", "m", 1});
  if (i == 7) r.violations.push_back(Violation{InvariantId::tid_leak, 2, "c", "o", "qedi_iscsi_abort_work", "m", 2});
  return r;
}
}  // namespace

BOOST_AUTO_TEST_CASE(expected_ids_do_not_fail_a_run) {
  Campaign c = empty_campaign(1, 0);
  BOOST_TEST(!c.add(run(0)).has_value());  // xmit_after_unbind is in expect.fixed
  const auto f = c.add(run(7));            // two tid_leaks: the earlier one names the run
  BOOST_REQUIRE(f.has_value());
  BOOST_TEST(f->id == "tid_leak");
  BOOST_TEST(f->function == "qedi_iscsi_abort_work");
  BOOST_TEST(c.failing_runs == 1u);
  BOOST_TEST(c.ids.at("xmit_after_unbind").expected);
}

BOOST_AUTO_TEST_CASE(merged_shards_equal_the_whole_campaign) {
  Campaign whole = empty_campaign(1, 0);
  for (std::uint64_t i = 0; i < 12; ++i) whole.add(run(i));
  std::vector<Campaign> parts;
  for (std::uint64_t s = 0; s < 3; ++s) {
    Campaign p = empty_campaign(3, s);
    for (std::uint64_t i = s; i < 12; i += 3) p.add(run(i));
    // Through JSON, as merge reads them.
    parts.push_back(Campaign::from_json(nlohmann::json::parse(p.to_json().dump())));
  }
  std::swap(parts[0], parts[2]);  // order of the inputs does not matter
  const Campaign merged = merge_campaigns(parts);
  BOOST_TEST(without_timing(merged.to_json()) == without_timing(whole.to_json()));
  BOOST_TEST(whole.ids.at("tid_leak").seen.first_run == 1u);
  BOOST_TEST(whole.ids.at("tid_leak").functions.size() == 2u);
  BOOST_TEST(whole.points.at("fw.cqe").runs == 12u);
  BOOST_TEST(whole.points.at("fw.cqe").occurrences == 78u);
  BOOST_TEST(whole.tmf_transitions.at("QUEUED->TIMEDOUT").runs == 6u);
  BOOST_TEST(whole.tmf_transitions.at("QUEUED->TIMEDOUT").occurrences == 12u);
  const auto cov = whole.to_json().at("coverage");
  BOOST_TEST(cov.at("tmf_transitions_reached").get<std::size_t>() == 2u);
  BOOST_TEST(cov.at("tmf_transitions_known").get<std::size_t>() == known_tmf_transitions().size());
  parts.push_back(parts[0]);
  BOOST_CHECK_THROW(merge_campaigns(parts), std::runtime_error);  // a shard twice
  Campaign other = empty_campaign(3, 1);
  other.base_seed = 4;
  BOOST_CHECK_THROW(merge_campaigns({parts[0], other}), std::runtime_error);
}

BOOST_AUTO_TEST_SUITE_END()

// Boost.Test provides main() here. libsystemc, pulled in through the
// explore library, references sc_main; sanitizer builds keep the library
// linked, so it must resolve. It is never called: each run forks a child
// that calls run_simulation directly.
extern "C" int sc_main(int, char**) { return 0; }

// What a campaign child sends back: every field the parent keeps survives,
// and anything short of one whole payload is refused, never half read.
BOOST_AUTO_TEST_CASE(run_payloads_read_back_whole_or_not_at_all) {
  RunResult r;
  r.end_reason = "quiescent";
  r.eh_max_level = EhLevel::device;
  Violation v;
  v.id = InvariantId::tid_leak;
  v.time_ns = 9263247749;
  v.context = "checker";
  v.object = "tid 0x002";
  v.function = "qedi_tmf_work";
  const char kMessage[] = "set at quiescence; \"quoted\"\n\0and a NUL";
  v.message = std::string(kMessage, sizeof kMessage - 1);  // the NUL inside too
  v.count = 3;
  r.violations = {v, v};
  r.violations[1].id = InvariantId::uaf;
  r.violations[1].message.clear();
  r.points_reached = {{"fw.cleanup", 2}, {"target.scsi_rsp", 12}};
  r.tmf_transitions = {{"QUEUED->SUCCESS", 1}};
  r.session_transitions = {};
  const std::string bytes = encode_payload(r, {"link_flap", "slow_tmf"});

  RunSummary s;
  std::string end_reason;
  BOOST_REQUIRE(decode_payload(bytes, s, end_reason));
  BOOST_TEST(end_reason == "quiescent");
  BOOST_TEST(s.eh_max_level == "device");
  BOOST_REQUIRE_EQUAL(s.violations.size(), 2u);
  for (std::size_t i = 0; i < 2; ++i) {
    const Violation& a = r.violations[i];
    const Violation& b = s.violations[i];
    BOOST_TEST((a.id == b.id));
    BOOST_TEST(a.time_ns == b.time_ns);
    BOOST_TEST(a.context == b.context);
    BOOST_TEST(a.object == b.object);
    BOOST_TEST(a.function == b.function);
    BOOST_TEST(a.message == b.message);
    BOOST_TEST(a.count == b.count);
  }
  BOOST_TEST((s.points_reached == r.points_reached));
  BOOST_TEST((s.tmf_transitions == r.tmf_transitions));
  BOOST_TEST(s.session_transitions.empty());
  BOOST_TEST((s.fault_kinds == std::vector<std::string>{"link_flap", "slow_tmf"}));

  for (std::size_t cut = 0; cut < bytes.size(); ++cut) {
    RunSummary partial;
    partial.run = 7;
    std::string reason = "unchanged";
    BOOST_TEST(!decode_payload(std::string_view(bytes).substr(0, cut), partial, reason), "cut at " << cut);
    // Nothing of a refused payload is kept.
    BOOST_TEST(partial.run == 7u);
    BOOST_TEST(reason == "unchanged");
    BOOST_TEST(partial.violations.empty());
    BOOST_TEST(partial.points_reached.empty());
    BOOST_TEST(partial.eh_max_level.empty());
  }
  RunSummary extra;
  BOOST_TEST(!decode_payload(bytes + "x", extra, end_reason));
  RunSummary text;
  BOOST_TEST(!decode_payload("{\"violations\": []}", text, end_reason));
}

// ForkPool's children allocate from their own heap (child_heap.h): every
// size up to 4 KiB from it, aligned as new must be, a freed block reused by
// the next of its class, larger blocks and the parent's blocks with malloc.
BOOST_AUTO_TEST_CASE(a_forked_child_allocates_from_its_own_heap) {
  auto* from_parent = new std::string(100, 'p');
  std::vector<std::string> answers;
  ForkPool pool;
  pool.child = [&](std::size_t) -> std::string {
    if (!begin_child_heap()) return "off";  // a sanitizer build: malloc throughout
    std::string bad;
    const std::size_t before = child_heap_used();
    std::vector<char*> blocks;
    for (std::size_t n : {0, 1, 8, 15, 16, 17, 100, 1000, 4095, 4096}) {
      char* b = new char[n];
      std::memset(b, 0x5a, n);
      if (reinterpret_cast<std::uintptr_t>(b) % 16) bad += "misaligned " + std::to_string(n) + "; ";
      blocks.push_back(b);
    }
    if (child_heap_used() <= before) bad += "not from the child heap; ";
    char* last = blocks.back();
    delete[] last;
    if (new char[4096] != last) bad += "a freed block is not reused; ";
    const std::size_t used = child_heap_used();
    std::vector<char> large(1 << 20, 'l');
    if (child_heap_used() != used) bad += "a large block came from the child heap; ";
    delete from_parent;  // malloc's, freed by free()
    for (char* b : blocks)
      if (b != last) delete[] b;
    return bad.empty() ? "ok" : bad;
  };
  pool.done = [&](std::size_t, ChildOutcome&& o) { answers.push_back(o.ok ? o.payload : "failed: " + o.error); };
  BOOST_REQUIRE_EQUAL(pool.run({0}), 1u);
  BOOST_REQUIRE_EQUAL(answers.size(), 1u);
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST(answers[0] == "off");
#else
  BOOST_TEST(answers[0] == "ok");
#endif
  delete from_parent;
}

// A block of 2 MiB or more has a mapping of its own, aligned to 2 MiB (on
// huge pages where the system allows them), and is unmapped when freed,
// with the child heap off (this test process) and on (a forked child).
namespace {
// Whether [p, p + len) is mapped, p page-aligned: msync() fails with ENOMEM
// where nothing is.
bool is_mapped(const void* p, std::size_t len = 4096) {
  return ::msync(const_cast<void*>(p), len, MS_ASYNC) == 0 || errno != ENOMEM;
}
}  // namespace

#if !defined(__SANITIZE_ADDRESS__)  // malloc throughout under the sanitizers
namespace {
// What is wrong with the blocks of 2 MiB or more made now ("" when nothing).
std::string huge_blocks_wrong() {
  constexpr std::size_t kHuge = std::size_t{2} << 20;
  std::string bad;
  std::vector<char*> blocks;
  for (std::size_t n : {kHuge, 3 * (kHuge / 2), 3 * kHuge + 1}) {
    char* b = new char[n];
    std::memset(b, 0x5a, n);
    blocks.push_back(b);
    if (reinterpret_cast<std::uintptr_t>(b) % kHuge != 0) bad += "block of " + std::to_string(n) + " not aligned; ";
  }
  char* const small = new char[kHuge - 4096];
  std::memset(small, 1, kHuge - 4096);
  for (char* b : blocks) {
    const char* last_page = b + kHuge - 4096;
    if (!is_mapped(b)) bad += "a block not mapped; ";
    delete[] b;
    if (is_mapped(b) || is_mapped(last_page)) bad += "a freed block still mapped; ";  // kept by malloc
  }
  delete[] small;
  return bad;
}
}  // namespace
#endif

BOOST_AUTO_TEST_CASE(a_block_of_2_mib_or_more_has_a_mapping_of_its_own) {
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("a sanitizer build: malloc throughout");
#else
  BOOST_TEST(huge_blocks_wrong() == "");
  std::vector<std::string> answers;
  ForkPool pool;
  pool.child = [&](std::size_t) -> std::string {
    if (!begin_child_heap()) return "child heap off";
    const std::string bad = huge_blocks_wrong();
    return bad.empty() ? "ok" : bad;
  };
  pool.done = [&](std::size_t, ChildOutcome&& o) { answers.push_back(o.ok ? o.payload : "failed: " + o.error); };
  BOOST_REQUIRE_EQUAL(pool.run({0}), 1u);
  BOOST_REQUIRE_EQUAL(answers.size(), 1u);
  BOOST_TEST(answers[0] == "ok");
#endif
}

// HeapPages::populate_ahead (`qedisim run`'s heap): the pages in front of
// the allocation point are made before anything touches them; on_fault
// (ForkPool's children) leaves them to the first touch.
namespace {
// Whether the page after the one holding b is resident (mincore).
[[maybe_unused]] bool next_page_resident(char* b) {
  char* const page = b - reinterpret_cast<std::uintptr_t>(b) % 4096 + 4096;
  unsigned char in = 0;
  return ::mincore(page, 4096, &in) == 0 && (in & 1) != 0;
}
}  // namespace

BOOST_AUTO_TEST_CASE(a_populating_heap_makes_its_pages_ahead_of_use) {
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("a sanitizer build: malloc throughout");
#else
  // A ForkPool child begins its heap as the pool says (swarm: ahead).
  for (const HeapPages pages : {HeapPages::populate_ahead, HeapPages::on_fault}) {
    std::vector<std::string> answers;
    ForkPool pool;
    pool.heap_pages = pages;
    pool.child = [&](std::size_t) -> std::string {
      // The page after a fresh block's own, and the same after ~160 KiB of
      // blocks (past two 64 KiB chunks): both in front of the point.
      std::string seen = next_page_resident(new char[64]) ? "ahead" : "on fault";
      char* b = nullptr;
      for (int i = 0; i < 40; ++i) b = new char[4000];
      return seen + (next_page_resident(b) ? " ahead" : " on fault");
    };
    pool.done = [&](std::size_t, ChildOutcome&& o) { answers.push_back(o.ok ? o.payload : "failed: " + o.error); };
    BOOST_REQUIRE_EQUAL(pool.run({0}), 1u);
    BOOST_REQUIRE_EQUAL(answers.size(), 1u);
    // MADV_POPULATE_WRITE: Linux 5.14 on
    BOOST_TEST(answers[0] == (pages == HeapPages::populate_ahead ? "ahead ahead" : "on fault on fault"));
  }
#endif
}

// ForkPool::child_heap false (swarm's shrinks, each of which forks its
// candidates): the child keeps malloc, and its own children begin their heaps.
BOOST_AUTO_TEST_CASE(a_pool_child_can_keep_malloc) {
#if defined(__SANITIZE_ADDRESS__)
  BOOST_TEST_MESSAGE("a sanitizer build: malloc throughout");
#else
  for (const bool own : {true, false}) {
    std::vector<std::string> answers;
    ForkPool pool;
    pool.child_heap = own;
    pool.child = [&](std::size_t) -> std::string {
      auto kept = std::make_unique<std::string>(100, 'x');  // a block the compiler cannot elide
      return child_heap_used() > 0 && !kept->empty() ? "own heap" : "malloc";
    };
    pool.done = [&](std::size_t, ChildOutcome&& o) { answers.push_back(o.ok ? o.payload : "failed: " + o.error); };
    BOOST_REQUIRE_EQUAL(pool.run({0}), 1u);
    BOOST_REQUIRE_EQUAL(answers.size(), 1u);
    BOOST_TEST(answers[0] == (own ? "own heap" : "malloc"));
  }
#endif
}

// RunOptions::campaign_answer_only (explore's and swarm's children): the
// run builds and keeps no warning and no counter, and its answer
// (encode_payload) is byte for byte the full run's. p11 reverted reports
// its tid leak and data_race warnings.
BOOST_AUTO_TEST_CASE(a_campaign_answer_equals_the_full_runs) {
  const Scenario s = load_scenario_file(QEDISIM_SOURCE_DIR "/configs/explore/p11-lost-responses-leak-tids.yaml");
  FixSet fixes = s.fixes;
  fixes.set(Patch::p11, false);
  std::vector<std::string> answers(2), extras(2);
  ForkPool pool;  // one simulation per process: each in a child
  pool.child = [&](std::size_t task) {
    RunOptions ro;
    ro.fixes = fixes.effective();
    ro.seed = s.seed;
    ro.campaign_answer_only = task == 0;
    const RunResult r = run_simulation(s, ro);
    return fmt::format("{} warnings, {} counters, {} violations\n", r.warnings.size(), r.counters.size(),
                       r.violations.size()) +
           encode_payload(r);
  };
  pool.done = [&](std::size_t task, ChildOutcome&& o) {
    const std::string a = o.ok ? o.payload : "failed: " + o.error + "\n";
    extras[task] = a.substr(0, a.find('\n'));
    answers[task] = a.substr(a.find('\n') + 1);
  };
  BOOST_REQUIRE_EQUAL(pool.run({0, 1}), 2u);
  BOOST_TEST(extras[0] == "0 warnings, 0 counters, 1 violations");
  BOOST_TEST(extras[1].rfind("0 warnings", 0) != 0, extras[1]);
  BOOST_TEST(extras[1].find(", 0 counters") == std::string::npos, extras[1]);
  BOOST_TEST(!answers[0].empty());
  BOOST_TEST(answers[0] == answers[1]);
}

namespace {
int restored_global = 7;

// What a task of the restore point cases found, then changed: a global and
// a block the parent allocated.
std::string see_and_spoil(std::vector<int>& parent_block, std::size_t task) {
  std::string seen = fmt::format("{} {} {}", restored_global, parent_block[0], parent_block[999]);
  restored_global += 1 + static_cast<int>(task);
  parent_block[0] = -1;
  parent_block[999] = static_cast<int>(task);
  return seen;
}

// Tasks 0 .. n-1 in a ForkPool with `reuse` (its workers run from a restore
// point where the kernel allows it): each task's answer ("failed: <why>"
// when it failed) and the processes the pool forked.
struct ReusedRun {
  std::vector<std::string> answers;
  std::size_t forked = 0;
};
ReusedRun run_in_reused_workers(std::size_t n, std::function<std::string(std::size_t)> child) {
  ReusedRun r;
  r.answers.resize(n);
  ForkPool pool;
  pool.reuse = true;
  pool.forked = &r.forked;
  pool.child = std::move(child);
  pool.done = [&](std::size_t task, ChildOutcome&& o) { r.answers[task] = o.ok ? o.payload : "failed: " + o.error; };
  std::vector<std::size_t> tasks(n);
  std::iota(tasks.begin(), tasks.end(), 0);
  BOOST_REQUIRE_EQUAL(pool.run(tasks), n);
  return r;
}
}  // namespace

// ForkPool with `reuse` (restore_point.h): a worker runs task after task,
// each from the memory it was forked with, whatever the last one changed or
// allocated (small blocks: the child heap; 8 MiB: malloc, from the program
// break in a worker). Forty tasks: past the restore that protects every
// written page again (restore_point.cpp, kProtectEvery). One process for
// all where the kernel has what the point takes; one each where it has
// not (a sanitizer build).
BOOST_AUTO_TEST_CASE(a_reused_worker_starts_every_task_from_the_forked_state) {
  const std::string why = restore_point_probe();
  auto* parent_block = new std::vector<int>(1000, 1);
  const ReusedRun r = run_in_reused_workers(40, [&](std::size_t task) {
    const std::string seen = see_and_spoil(*parent_block, task);
    auto* small = new std::string(1000, 'x');  // left for the restore to take back
    auto* large = static_cast<char*>(std::malloc(8 << 20));
    if (!small || !large) return std::string("no memory");
    std::memset(large, 1, 8 << 20);
    return seen + " pid " + std::to_string(::getpid());
  });
  std::set<std::string> pids;
  for (const auto& a : r.answers) {
    BOOST_TEST(a.rfind("7 1 1 pid ", 0) == 0, a);
    pids.insert(a.substr(a.find("pid")));
  }
  if (why.empty()) {
    BOOST_TEST(r.forked == 1u);
    BOOST_TEST(pids.size() == 1u);
  } else {
    BOOST_TEST_MESSAGE("no restore point here: " << why);
    BOOST_TEST(r.forked == r.answers.size());
  }
  delete parent_block;
}

// A task that maps memory and leaves it mapped does not end its worker: the
// memory put back knows nothing of the mapping, and it is unmapped. The
// mapping is at a fixed address far from any other (so that it merges
// with no neighbour), and every task finds it unmapped.
BOOST_AUTO_TEST_CASE(a_mapping_a_task_leaves_is_gone_at_the_next) {
  const std::string why = restore_point_probe();
  void* const where = reinterpret_cast<void*>(std::uintptr_t{0x300000000000});  // NOLINT(performance-no-int-to-ptr)
  constexpr std::size_t kSize = 1 << 20;
  const ReusedRun r = run_in_reused_workers(6, [&](std::size_t) {
    const bool was_mapped = is_mapped(where, kSize);
    void* p = ::mmap(where, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
    if (p != where) return std::string("cannot map there");
    std::memset(p, 1, kSize);
    return std::string(was_mapped ? "found it mapped" : "found it unmapped");
  });
  for (const auto& a : r.answers) BOOST_TEST(a == "found it unmapped");
  BOOST_TEST(r.forked == (why.empty() ? 1u : 6u));
}

// A mapping the point had, which a task unmaps (as SystemC frees a thread's
// stack when the thread ends), is mapped again for the next task with the
// contents it had at the point, and the worker goes on.
BOOST_AUTO_TEST_CASE(a_mapping_a_task_unmaps_comes_back_with_its_contents) {
  const std::string why = restore_point_probe();
  void* const where = reinterpret_cast<void*>(std::uintptr_t{0x310000000000});  // NOLINT(performance-no-int-to-ptr)
  constexpr std::size_t kSize = 256 << 10;
  void* m = ::mmap(where, kSize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
  BOOST_REQUIRE(m == where);
  auto* bytes = static_cast<unsigned char*>(m);
  for (std::size_t i = 0; i < kSize; ++i) bytes[i] = static_cast<unsigned char>(i / 4096 + 1);
  const ReusedRun r = run_in_reused_workers(6, [&](std::size_t) {
    if (!is_mapped(where, kSize)) return std::string("found it unmapped");
    for (std::size_t i = 0; i < kSize; i += 1000)
      if (bytes[i] != static_cast<unsigned char>(i / 4096 + 1)) return "found byte " + std::to_string(i) + " changed";
    std::memset(bytes, 0xee, kSize / 2);  // written, then gone
    return std::string(::munmap(where, kSize) == 0 ? "found it as it was" : "cannot unmap it");
  });
  ::munmap(where, kSize);
  for (const auto& a : r.answers) BOOST_TEST(a == "found it as it was");
  BOOST_TEST(r.forked == (why.empty() ? 1u : 6u));
}

// A worker that dies is replaced, and its task fails with the reason; one
// that threw answers and goes on; one whose task left a file open answers,
// then leaves (it cannot go back: restore_point.h checks the open files).
BOOST_AUTO_TEST_CASE(a_worker_that_dies_or_cannot_go_back_is_replaced) {
  const std::string why = restore_point_probe();
  const ReusedRun r = run_in_reused_workers(8, [&](std::size_t task) -> std::string {
    if (task == 2) ::kill(::getpid(), SIGKILL);
    if (task == 4) throw std::runtime_error("task 4 threw");
    if (task == 5 && ::open("/dev/null", O_RDONLY) < 0) return "cannot open /dev/null";
    return "ran " + std::to_string(task);
  });
  for (std::size_t t : {0, 1, 3, 5, 6, 7}) BOOST_TEST(r.answers[t] == "ran " + std::to_string(t));
  BOOST_TEST(r.answers[2] == "failed: died with signal 9 (Killed)");
  BOOST_TEST(r.answers[4] == "failed: task 4 threw");
  // Workers: tasks 0-2 (killed), 3-5 (5 leaves a file open), 6-7.
  BOOST_TEST(r.forked == (why.empty() ? 3u : 8u));
}
