#include "sim/cli.h"

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <vector>

#include "sim/explore/child_heap.h"
#include "sim/explore/explore.h"
#include "sim/explore/fork_pool.h"
#include "sim/explore/merge.h"
#include "sim/explore/shrink.h"
#include "sim/explore/swarm.h"
#include "sim/failpoints/catalog.h"
#include "sim/isolated_run.h"
#include "sim/report/atomic_file.h"
#include "sim/report/report.h"
#include "sim/scenario/loader.h"
#include "sim/testbench.h"
#include "sim/trace/event_writer.h"

#ifndef QEDISIM_VERSION
#define QEDISIM_VERSION "0.0.0"
#endif

namespace qedisim {

namespace {

struct Options {
  std::string file;
  std::optional<std::string> vcd;  // set, possibly empty = default path
  std::optional<std::string> log;  // --log [P], possibly empty = default path
  std::string log_filter;
  std::string trace;
  std::string report;
  std::optional<std::uint64_t> seed;
  std::vector<std::string> revert;
  bool quiet = false;
  bool timing = false;
  double time_scale = 1.0;
  bool fixed_only = false;  // check: skip the reverted run (mutation check)
  std::string at;           // --at base|pNN: the series up to that patch (empty: the file's fixes)
  bool history = false;     // check --history
};

// The scenario as the options ask for it: --time-scale multiplies every
// duration the file wrote (docs/scenarios.md "Timing robustness").
Scenario load_for(const Options& o) {
  Scenario s = load_scenario_file(o.file);
  if (o.time_scale != 1.0) s = s.scaled(o.time_scale);
  return s;
}

// "out/x.json" -> "out/x.reverted.json" (docs/scenarios.md: check's second run).
std::string with_suffix(const std::string& path, const std::string& suffix) {
  const std::filesystem::path p(path);
  if (!p.has_extension()) return path + "." + suffix;
  return (p.parent_path() / (p.stem().string() + "." + suffix + p.extension().string())).string();
}

std::string vcd_path_for(const Options& o, const Scenario& s) {
  if (!o.vcd) return {};
  if (!o.vcd->empty()) return *o.vcd;
  std::error_code ec;
  std::filesystem::create_directories("waves", ec);
  return fmt::format("waves/{}.vcd", s.name);
}

// The files one run writes; `suffixed` names those of check's other runs.
struct Outputs {
  std::string report, vcd, log, trace;
  Outputs suffixed(const std::string& suffix) const {
    auto p = [&](const std::string& path) { return path.empty() ? std::string() : with_suffix(path, suffix); };
    return Outputs{p(report), p(vcd), p(log), p(trace)};
  }
};

Outputs outputs_for(const Options& o, const Scenario& s) {
  Outputs out{o.report, vcd_path_for(o, s), {}, o.trace};
  if (o.log) {
    if (!o.log->empty()) {
      out.log = *o.log;
    } else {
      std::error_code ec;
      std::filesystem::create_directories("waves", ec);
      out.log = fmt::format("waves/{}.log", s.name);
    }
  }
  return out;
}

FixSet fixes_for(const Scenario& s, const Options& o) {
  if (!o.at.empty()) return s.series_fixes(*series_point_from_string(o.at), "--at " + o.at);
  FixSet fixes = s.fixes;
  for (const auto& r : o.revert) fixes.set(*patch_from_string(r), false);
  return fixes;
}

void print_violations(const RunResult& r) {
  for (const auto& v : fold_repeats(r.violations)) fmt::print("  violation {}\n", format_violation(v));
  for (const auto& v : fold_repeats(r.warnings)) fmt::print("  warning   {}\n", format_violation(v));
}

std::string counters_line(const RunResult& r) {
  auto get = [&](const char* name) {
    const auto it = r.counters.find(name);
    return it == r.counters.end() ? std::int64_t{0} : it->second;
  };
  const std::int64_t done = get("cmds_completed");
  const std::int64_t tids = get("tids_in_use");
  return fmt::format("{} command{} completed, {} failed, {} tid{} in use at end, EH max level {}", done,
                     done == 1 ? "" : "s", get("cmds_failed"), tids, tids == 1 ? "" : "s", to_string(r.eh_max_level));
}

// "[a, b]" or "none".
std::string id_list(const std::vector<InvariantId>& ids) {
  if (ids.empty()) return "none";
  std::vector<std::string> names;
  names.reserve(ids.size());
  for (InvariantId id : ids) names.emplace_back(to_string(id));
  return fmt::format("{}", fmt::join(names, ", "));
}

// The ids a run reported, each once, in order of first appearance.
std::vector<InvariantId> reported_ids(const RunResult& r) {
  std::vector<InvariantId> ids;
  for (const auto& v : r.violations)
    if (std::find(ids.begin(), ids.end(), v.id) == ids.end()) ids.push_back(v.id);
  return ids;
}

// SIGINT/SIGTERM: the run stopped early; nothing is written under a final
// name. Leaves at once (no exception after sc_start, which ASan misreads).
[[noreturn]] void exit_interrupted(std::int64_t sim_time_ns) {
  const int sig = interrupt_signal() ? interrupt_signal() : SIGINT;
  std::fflush(stdout);
  fmt::print(stderr, "qedisim: interrupted by signal {} at simulated time {}; no report or waveform written\n", sig,
             format_seconds(sim_time_ns));
  std::fflush(stderr);
  std::_Exit(128 + sig);
}

extern "C" void on_interrupt(int sig) { request_interrupt(sig); }

struct Variant {
  std::string label;
  FixSet fixes;
  std::vector<InvariantId> expected;
  const FinalCounters* final;
  Outputs out;
  // Instead of the exact-set judgement of `expected` (check --history).
  std::function<Judgement(const RunResult&)> judge_fn = nullptr;
};

// Runs one variant, writes its report, prints its block; returns expectations met.
bool run_variant(const Scenario& s, const Options& o, const Variant& v, bool in_child, RunResult* out) {
  // Before the run: a bad output path is bad input, not a lost run.
  for (const std::string* path : {&v.out.report, &v.out.vcd, &v.out.log, &v.out.trace})
    if (!path->empty()) check_writable(*path);
  RunOptions ro;
  ro.fixes = v.fixes.effective();
  ro.seed = o.seed.value_or(s.seed);
  ro.vcd_path = v.out.vcd;
  ro.log_path = v.out.log;
  ro.log_filter = o.log_filter;
  ro.trace_path = v.out.trace;
  const auto t0 = std::chrono::steady_clock::now();
  RunResult r = in_child ? run_in_child(s, ro) : run_simulation(s, ro);
  if (r.end_reason == "interrupted") exit_interrupted(r.sim_time_ns);
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const Judgement j = v.judge_fn ? v.judge_fn(r) : judge(r, v.expected, v.final);
  if (!v.out.report.empty()) write_file_atomically(v.out.report, report_json(s, ro, r, j).dump(2) + "\n");
  if (!o.quiet) {
    fmt::print("[{}] fixes: {}\n", v.label, describe_fixes(ro.fixes));
    fmt::print("  {}\n", counters_line(r));
    fmt::print("  simulated {} in {:.2f}s wall ({})\n", format_seconds(r.sim_time_ns), wall, r.end_reason);
    print_violations(r);
    if (!v.judge_fn) fmt::print("  expected: {}; reported: {}\n", id_list(v.expected), id_list(reported_ids(r)));
    // An unexpected id's violation is printed above: name it only.
    for (const auto& d : j.details)
      fmt::print("  expectation not met: {}\n", d.rfind("unexpected ", 0) == 0 ? d.substr(0, d.find(':')) : d);
    if (!v.out.report.empty()) fmt::print("  report: {}\n", v.out.report);
    if (!v.out.vcd.empty()) {
      fmt::print("  waveform: {}\n", v.out.vcd);
      if (!r.violations.empty() && !is_special_file(v.out.vcd)) {
        const std::string stem = v.out.vcd.size() > 4 && v.out.vcd.compare(v.out.vcd.size() - 4, 4, ".vcd") == 0
                                     ? v.out.vcd.substr(0, v.out.vcd.size() - 4)
                                     : v.out.vcd;
        fmt::print("  view the race: gtkwave -S {0}.zoom.tcl {1} {0}.gtkw\n", stem, v.out.vcd);
      }
    }
    if (!v.out.log.empty()) fmt::print("  log: {}\n", v.out.log);
    if (!v.out.trace.empty()) fmt::print("  trace: {}\n", v.out.trace);
  }
  if (out) *out = std::move(r);
  return j.met;
}

int cmd_run(const Options& o) {
  // One simulation in this process: the heap a forked run uses (free lists
  // per size class, sim/explore/child_heap.h) serves it at a fraction of
  // malloc's cost per block, its pages made a chunk ahead of use.
  // QEDISIM_CHILD_HEAP=0 keeps malloc.
  begin_child_heap(HeapPages::populate_ahead);
  const Scenario s = load_for(o);
  const FixSet fixes = fixes_for(s, o);
  Variant v{"run", fixes, s.expect.fixed, &s.expect.final, outputs_for(o, s)};
  // A run whose fix set is check's reverted one is judged like check's second run.
  if (s.expect.reverted && fixes.effective() == s.reverted_fixes().effective() &&
      !(fixes.effective() == s.fixes.effective())) {
    v.expected = *s.expect.reverted;
    v.final = nullptr;
  }
  if (!o.quiet)
    fmt::print("qedisim {}: scenario {} ({}), seed {}\n", QEDISIM_VERSION, s.name, s.file, o.seed.value_or(s.seed));
  RunResult r;
  run_variant(s, o, v, false, &r);
  const bool clean = r.violations.empty();
  const std::size_t n = fold_repeats(r.violations).size();
  fmt::print("verdict: {}\n",
             clean ? "CLEAN (no invariant violated)" : fmt::format("VIOLATED ({} violation{})", n, n == 1 ? "" : "s"));
  if (o.timing) {  // stderr: wall-clock figures never go into an output that must be reproducible
    const double rate = r.sim_wall_s > 0 ? static_cast<double>(r.sim_time_ns) / 1e9 / r.sim_wall_s : 0.0;
    // Whole numbers for a bug scenario's thousands, three significant digits
    // below 100 (a busy I/O run simulates less than a second per second).
    fmt::print(stderr,
               "timing: {:.3f} ms wall in the simulation for {:.6f} s simulated ({} simulated s per wall s, "
               "{} page faults)\n",
               r.sim_wall_s * 1e3, static_cast<double>(r.sim_time_ns) / 1e9,
               rate >= 100 ? fmt::format("{:.0f}", rate) : fmt::format("{:.3}", rate), r.sim_page_faults);
  }
  return clean ? kExitClean : kExitViolation;
}

int cmd_check(const Options& o) {
  const Scenario s = load_for(o);
  const FixSet fixes = fixes_for(s, o);
  if (!o.quiet) {
    fmt::print("qedisim {}: check {} ({}), seed {}\n", QEDISIM_VERSION, s.name, s.file, o.seed.value_or(s.seed));
    if (!s.about.empty()) fmt::print("about: {}\n", s.about);
  }
  const Outputs out = outputs_for(o, s);
  bool met = run_variant(s, o, Variant{"fixed", fixes, s.expect.fixed, &s.expect.final, out}, true, nullptr);
  if (s.expect.reverted && !o.fixed_only) {
    FixSet reverted = fixes;
    reverted.set(*s.patch, false);
    const Variant v{"reverted", reverted, *s.expect.reverted, nullptr, out.suffixed("reverted")};
    met = run_variant(s, o, v, true, nullptr) && met;
  }
  fmt::print("check: {}\n", met ? "PASS (every expectation held)" : "FAIL");
  return met ? kExitClean : kExitViolation;
}

// check --history: the kernels that existed around the scenario's patch.
// As of the patch before it the race must happen (at least one id that
// expect.reverted adds to expect.fixed); as of the patch itself it must be
// gone. Later patches are off in both runs, as in the kernels of that time.
int cmd_history(const Options& o) {
  const Scenario s = load_for(o);
  if (!s.patch || !s.expect.reverted)
    throw ScenarioError(s.file, 1, 1,
                        "check --history needs a scenario with 'patch: pNN' and expect.reverted (the ids its race "
                        "breaks)");
  std::vector<InvariantId> race;
  for (InvariantId id : *s.expect.reverted)
    if (std::find(s.expect.fixed.begin(), s.expect.fixed.end(), id) == s.expect.fixed.end()) race.push_back(id);
  if (race.empty())
    throw ScenarioError(s.file, 1, 1,
                        "check --history: expect.reverted adds no id to expect.fixed, so there is no race to look for");
  const int n = static_cast<int>(*s.patch);
  const std::string before = series_point_name(n - 1);
  const std::string at = series_point_name(n);
  if (!o.quiet)
    fmt::print("qedisim {}: check --history {} ({}), seed {}: as of {} and as of {}\n", QEDISIM_VERSION, s.name, s.file,
               o.seed.value_or(s.seed), before, at);
  const Outputs out = outputs_for(o, s);
  Variant b{"as of " + before, s.series_fixes(n - 1, "check --history"), {}, nullptr, out.suffixed("before")};
  b.judge_fn = [&](const RunResult& r) { return judge_history(r, race, true, before); };
  Variant a{"as of " + at, s.series_fixes(n, "check --history"), {}, nullptr, out.suffixed("at")};
  a.judge_fn = [&](const RunResult& r) { return judge_history(r, race, false, at); };
  const bool met_before = run_variant(s, o, b, true, nullptr);
  const bool met_at = run_variant(s, o, a, true, nullptr);
  const bool met = met_before && met_at;
  fmt::print("history: {}\n",
             met ? fmt::format("PASS (the race appears as of {} and is gone as of {})", before, at) : "FAIL");
  return met ? kExitClean : kExitViolation;
}

// For refactor-only patches: the run with `patch` reverted must give the same
// report as the run with the fixes as given, apart from the list of fixes.
int cmd_equiv(const Options& o) {
  const Scenario s = load_for(o);
  if (!s.patch) throw ScenarioError(s.file, 1, 1, "equiv needs a scenario with 'patch: pNN'");
  RunOptions base;
  base.fixes = fixes_for(s, o).effective();
  base.seed = o.seed.value_or(s.seed);
  RunOptions reverted = base;
  FixSet r = fixes_for(s, o);
  r.set(*s.patch, false);
  reverted.fixes = r.effective();
  auto report_of = [&](const RunOptions& ro) {
    const RunResult res = run_in_child(s, ro);
    nlohmann::json j = report_json(s, ro, res, judge(res, s.expect.fixed, nullptr));
    j.erase("fixes");
    return j;
  };
  nlohmann::json a = report_of(base);
  nlohmann::json b = report_of(reverted);
  // Behaviour is compared, not the data_race warnings: a patch the revert
  // drags along (p01 needs p10 out) changes which locks are held, and so the
  // warnings, without changing what happens.
  const std::size_t wa = a.value("warnings", nlohmann::json::array()).size();
  const std::size_t wb = b.value("warnings", nlohmann::json::array()).size();
  a.erase("warnings");
  b.erase("warnings");
  if (a == b) {
    fmt::print("equiv: SAME (fixes {} and {} give identical reports)\n", describe_fixes(base.fixes),
               describe_fixes(reverted.fixes));
    if (wa != wb) fmt::print("  data_race warnings (not compared): {} vs {}\n", wa, wb);
    return kExitClean;
  }
  fmt::print("equiv: DIFFERENT (fixes {} vs {})\n", describe_fixes(base.fixes), describe_fixes(reverted.fixes));
  const nlohmann::json diff = nlohmann::json::diff(a, b);
  for (const auto& d : diff) fmt::print("  {}\n", d.dump());
  return kExitViolation;
}

int cmd_points() {
  fmt::print("{:<44} {:<32} {:<22} {}\n", "point", "match keys", "actions", "where");
  for (const auto& p : point_catalog()) {
    std::vector<std::string> keys;
    const std::pair<unsigned, const char*> kKeys[] = {
        {kMatchSession, "session"}, {kMatchLun, "lun"}, {kMatchFunction, "function"},
        {kMatchType, "type"},       {kMatchGfp, "gfp"}, {kMatchSite, "site"},
        {kMatchCq, "cq"},           {kMatchNth, "nth"}};
    for (const auto& [bit, name] : kKeys)
      if (p.match_keys & bit) keys.emplace_back(name);
    std::vector<std::string> acts;
    const std::pair<unsigned, const char*> kActs[] = {
        {kActDrop, "drop"}, {kActDelay, "delay"}, {kActRespond, "respond"}, {kActFail, "fail"}};
    for (const auto& [bit, name] : kActs)
      if (p.actions & bit) acts.emplace_back(name);
    fmt::print("{:<44} {:<32} {:<22} {}\n", p.name, fmt::format("{}", fmt::join(keys, ",")),
               fmt::format("{}", fmt::join(acts, ",")), p.where);
  }
  return kExitClean;
}

int cmd_params() {
  const ModelParams defaults;
  fmt::print("{:<30} {:>8}  {}\n", "param", "default", "meaning");
  for (const auto& p : param_catalog())
    fmt::print("{:<30} {:>8}  {}\n", p.key, param_value_string(defaults, p.key), p.meaning);
  return kExitClean;
}

std::string check_seed(const std::string& v) {
  const bool digits = !v.empty() && v.size() <= 20 && v.find_first_not_of("0123456789") == std::string::npos;
  if (digits && (v.size() < 20 || v <= "18446744073709551615")) return std::string();
  return fmt::format("seed must be a whole number from 0 to 18446744073709551615, got '{}'", v);
}

std::string check_patch(const std::string& v) {
  return patch_from_string(v) ? std::string() : fmt::format("unknown patch id '{}' (allowed: p01 .. p17)", v);
}

std::string check_series_point(const std::string& v) {
  return series_point_from_string(v) ? std::string()
                                     : fmt::format("unknown point of the series '{}' (allowed: base, p01 .. p17)", v);
}

void add_explore_options(CLI::App* cmd, ExploreOptions& o) {
  cmd->add_option("FILE", o.file, "scenario YAML file (schema v1 or v2)")->required();
  cmd->add_option("--runs", o.runs, "runs in the campaign: run i uses seed splitmix64(S, i)")
      ->default_val(100)
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd->add_option("--jobs,-j", o.jobs, "runs in parallel (forked children)")
      ->default_val(1)
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--seed", o.seed, "base seed S (default the scenario's seed)")->check(check_seed);
  cmd->add_option("--shard", o.shard, "i/n: only the runs with index % n == i (job arrays)")->default_val("0/1");
  cmd->add_option("--time-budget", o.time_budget, "stop launching runs after this wall time (90s, 10m, 2h)");
  cmd->add_option("--out", o.out_dir, "reproducer folder (default explore-out/<scenario>)");
  cmd->add_option("--jitter", o.jitter, "sched.jitter of every run (default the file's sched.jitter, else 50us)");
  cmd->add_option("--stall", o.stall,
                  "sched.stall of every run: windows anywhere, a context held up to this long at a plain field access, "
                  "lock acquire or wake_up (default the file's, 0 = off)");
  cmd->add_option("--stall-points", o.stall_points,
                  "sched.stall_points: exactly K stalls per run at points drawn by the seed (PCT-style) instead of "
                  "sampling each point at sched.stall_rate");
  cmd->add_flag("--no-holds", o.no_holds,
                "drop the file's qedi.* and libiscsi.* failpoints: only the stalls open windows in the host");
  auto* revert = cmd->add_option("--revert", o.revert, "remove pNN from the fix set (repeatable)")->check(check_patch);
  cmd->add_option("--at", o.at,
                  "run the kernel of that point of the series: the patches up to and including pNN, the later ones "
                  "not; 'base' is 5.12 without the series (not with --revert or a file's own fixes:)")
      ->check(check_series_point)
      ->excludes(revert);
  cmd->add_option("--json", o.json_path, "write the campaign result (JSON) to this path");
  cmd->add_option("--keep", o.keep, "reproducers kept per invariant and function folder (0 = all)")->default_val(5);
  cmd->add_flag("--quiet,-q", o.quiet, "no progress display");
  cmd->add_flag("--log", o.log, "write a kernel-style log (as run --log) beside each reproducer: <reproducer>.log");
}

void add_shrink_options(CLI::App* cmd, ShrinkOptions& o) {
  cmd->add_option("FILE", o.file, "a scenario whose run reports an invariant beyond expect.fixed")->required();
  cmd->add_option("--out", o.out, "where to write the smallest scenario (default FILE.shrunk.yaml)");
  cmd->add_option("--id", o.ids, "invariant id that must keep firing (repeatable; default the first unexpected one)");
  cmd->add_option("--revert", o.revert, "remove pNN from the fix set (written into the output)")->check(check_patch);
  cmd->add_option("--seed", o.seed, "override the scenario's seed (written into the output)")->check(check_seed);
  cmd->add_option("--max-runs", o.max_runs, "candidate runs at most")->default_val(500);
  cmd->add_flag("--quiet,-q", o.quiet, "print only the result");
  cmd->add_option("--compare", o.compare,
                  "a scenario (e.g. the hand-written one for the patch) the result must be no larger than: no more "
                  "entries (sessions, streams, failpoints, actions, params) and no more ops; exit 1 when larger "
                  "(repeatable: no larger than each)");
}

void add_swarm_options(CLI::App* cmd, SwarmOptions& o) {
  cmd->add_option("--runs", o.runs, "runs in the campaign: run i draws its scenario from seed splitmix64(S, i)")
      ->default_val(1000)
      ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{1} << 40));
  cmd->add_option("--jobs,-j", o.jobs, "runs, then the kept runs' shrinks, in parallel (forked children)")
      ->default_val(1)
      ->check(CLI::Range(1, 1024));
  cmd->add_option("--seed", o.seed, "base seed S")->default_val(1)->check(check_seed);
  cmd->add_option("--shard", o.shard, "i/n: only the runs with index % n == i (job arrays)")->default_val("0/1");
  cmd->add_option("--time-budget", o.time_budget, "stop launching runs after this wall time (90s, 10m, 2h)");
  auto* revert = cmd->add_option("--revert", o.revert, "remove pNN from the fix set (repeatable)")->check(check_patch);
  cmd->add_option("--at", o.at,
                  "run the kernel of that point of the series: the patches up to and including pNN, the later ones "
                  "not; 'base' is 5.12 without the series")
      ->check(check_series_point)
      ->excludes(revert);
  cmd->add_option("--out", o.out_dir, "reproducer folder (default swarm-out)");
  cmd->add_option("--json", o.json_path, "write the campaign result (JSON) to this path");
  cmd->add_option("--keep", o.keep, "reproducers kept per invariant and function folder (0 = all)")->default_val(3);
  cmd->add_option("--shrink-runs", o.shrink_runs, "candidate runs when shrinking each reproducer (0 = do not shrink)")
      ->default_val(200);
  cmd->add_flag("--quiet,-q", o.quiet, "no progress display");
}

bool looks_like_scenario(const std::string& path) {
  auto ends = [&](const char* ext) {
    const std::string e(ext);
    return path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0;
  };
  return ends(".yaml") || ends(".yml");
}

void add_run_options(CLI::App* cmd, Options& o) {
  cmd->add_option("FILE", o.file, "scenario YAML file (schema v1 or v2)")->required();
  cmd->add_option("--vcd", o.vcd, "write a VCD waveform (default path waves/<scenario>.vcd)")
      ->expected(0, 1)
      ->default_str("");
  cmd->add_option("--report", o.report, "write the JSON report to this path");
  cmd->add_option("--log", o.log,
                  "write a kernel-style text log: one dmesg/ftrace-style line per event (default path "
                  "waves/<scenario>.log)")
      ->expected(0, 1)
      ->default_str("");
  cmd->add_option("--log-filter", o.log_filter,
                  "only these layers and sessions in the log, comma-separated: scsi, libiscsi, transport, qedi, "
                  "iscsid, kernel, fw, target, failpoint, checker, s0, s1, ... (violations always)")
      ->check([](const std::string& v) {
        try {
          LogFilter::parse(v);
          return std::string();
        } catch (const std::invalid_argument& e) {
          return std::string(e.what());
        }
      });
  cmd->add_option("--trace", o.trace,
                  "write a Chrome trace-event JSON (Perfetto UI, chrome://tracing): a track per context, a slice "
                  "per kernel function, flows, counters");
  cmd->add_option("--seed", o.seed, "override the scenario's seed (unsigned 64-bit)")->check(check_seed);
  cmd->add_option("--revert", o.revert, "remove pNN from the fix set (repeatable)")->check(check_patch);
  auto* at = cmd->add_option("--at", o.at,
                             "run the kernel of that point of the series: the patches up to and including pNN, "
                             "the later ones not; 'base' is 5.12 without the series (not with --revert or a "
                             "file's own fixes:)")
                 ->check(check_series_point);
  at->excludes(cmd->get_option("--revert"));
  cmd->add_flag("--quiet,-q", o.quiet, "print only the verdict line");
  cmd->add_option("--time-scale", o.time_scale,
                  "multiply every duration the scenario wrote (params, delays, action times, starts, stop_at)")
      ->check(CLI::Range(0.01, 100.0));
}

}  // namespace

int cli_main(int argc, char** argv) {
  CLI::App app{
      "qedisim: replays the races of the 2021 'libiscsi and qedi TMF fixes' series on a simulated "
      "FastLinQ iSCSI offload HBA and Linux host stack."};
  app.name("qedisim");
  app.set_version_flag("--version", std::string("qedisim ") + QEDISIM_VERSION);
  app.require_subcommand(1);
  Options o;
  auto* run = app.add_subcommand("run", "run a scenario once; exit 0 clean, 1 an invariant fired");
  add_run_options(run, o);
  run->add_flag(
      "--timing", o.timing,
      "print to stderr the wall time of the simulation (after elaboration) and simulated seconds per wall second");
  auto* check = app.add_subcommand(
      "check",
      "run a scenario with its fixes and, if expect.reverted is given, with its patch reverted; exit 0 when "
      "every expectation holds");
  add_run_options(check, o);
  auto* fixed_only =
      check->add_flag("--fixed-only", o.fixed_only, "judge only the run with the fixes as given (mutation check)");
  auto* history = check->add_flag(
      "--history", o.history,
      "run the scenario as of the patch before its `patch` (the race must appear) and as of the patch itself (it "
      "must be gone), later patches off in both: kernels that existed");
  history->excludes(fixed_only)->excludes(check->get_option("--at"))->excludes(check->get_option("--revert"));
  auto* equiv = app.add_subcommand(
      "equiv",
      "for a refactor-only patch: compare the reports with and without the scenario's patch (exit 0 when "
      "identical apart from the fix list)");
  add_run_options(equiv, o);
  ExploreOptions eo;
  auto* explore = app.add_subcommand(
      "explore",
      "run a scenario N times with derived seeds (jitter, v2 random delays and drops) in forked children; "
      "exit 0 when no run reports an invariant beyond expect.fixed, 1 otherwise");
  add_explore_options(explore, eo);
  ShrinkOptions so;
  auto* shrink = app.add_subcommand(
      "shrink", "reduce a failing scenario while the same invariant id still fires; write the smallest one found");
  add_shrink_options(shrink, so);
  SwarmOptions wo;
  auto* swarm = app.add_subcommand(
      "swarm",
      "run N scenarios each drawn whole from its own seed (topology, workload, parameters, a random subset of "
      "fault kinds) in forked children; shrink and keep the runs that report an invariant; exit 0 when none does");
  add_swarm_options(swarm, wo);
  std::vector<std::string> merge_files;
  std::string merge_json;
  auto* merge =
      app.add_subcommand("merge", "combine the --json results of the shards of one explore or swarm campaign");
  merge->add_option("RESULTS", merge_files, "campaign results (explore --json, swarm --json)")->required();
  merge->add_option("--json", merge_json, "write the merged result to this path");
  auto* points = app.add_subcommand("points", "list every failpoint the build has");
  auto* params = app.add_subcommand("params", "list every model parameter with its default");
  app.footer(
      "Exit codes: 0 clean / expectations held, 1 invariant violated / expectation failed, 2 bad input, "
      "3 internal error.");

  if (argc <= 1) {  // bare `qedisim`: what it can do
    fmt::print("{}", app.help());
    return kExitClean;
  }
  try {
    app.parse(argc, argv);
    // `--vcd` takes an optional path, so `run --vcd x.yaml` hands it the scenario.
    if ((run->parsed() || check->parsed() || equiv->parsed()) && looks_like_scenario(o.vcd.value_or("")))
      throw CLI::ValidationError("--vcd", fmt::format("'{}' looks like a scenario, not a waveform path: write "
                                                      "--vcd OUT.vcd FILE, or FILE --vcd for waves/<scenario>.vcd",
                                                      *o.vcd));
  } catch (const CLI::RequiredError& e) {
    if (looks_like_scenario(o.vcd.value_or(""))) {
      fmt::print(stderr,
                 "qedisim: --vcd took '{}' as the waveform path and no scenario FILE is left: write --vcd OUT.vcd "
                 "FILE, or FILE --vcd for waves/<scenario>.vcd\n",
                 *o.vcd);
      return kExitBadInput;
    }
    return app.exit(e) == 0 ? kExitClean : kExitBadInput;
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e);
    return code == 0 ? kExitClean : kExitBadInput;
  }
  // Campaigns fork a child per run: bind the libraries' symbols once, here.
  if (explore->parsed() || shrink->parsed() || swarm->parsed()) reexec_binding_now(argc, argv);
  std::signal(SIGINT, on_interrupt);
  std::signal(SIGTERM, on_interrupt);
  try {
    if (run->parsed()) return cmd_run(o);
    if (check->parsed()) return o.history ? cmd_history(o) : cmd_check(o);
    if (equiv->parsed()) return cmd_equiv(o);
    if (explore->parsed()) return run_explore(eo);
    if (shrink->parsed()) return run_shrink(so);
    if (swarm->parsed()) return run_swarm(wo);
    if (merge->parsed()) return run_merge(merge_files, merge_json);
    if (points->parsed()) return cmd_points();
    if (params->parsed()) return cmd_params();
  } catch (const ScenarioError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "{}\n", e.what());
    return kExitBadInput;
  } catch (const OptionError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "qedisim: {}\n", e.what());
    return kExitBadInput;
  } catch (const OutputError& e) {
    std::fflush(stdout);
    fmt::print(stderr, "qedisim: {}\n", e.what());
    return kExitBadInput;
  } catch (const std::exception& e) {
    std::fflush(stdout);
    fmt::print(stderr, "qedisim: internal error: {}\n", e.what());
    return kExitInternal;
  }
  return kExitBadInput;
}

}  // namespace qedisim
