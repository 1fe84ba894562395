#include "sim/explore/explore.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>
#include <regex>

#include "sim/cli.h"
#include "sim/explore/fork_pool.h"
#include "sim/explore/huge_text.h"
#include "sim/explore/payload.h"
#include "sim/explore/restore_point.h"
#include "sim/explore/scenario_yaml.h"
#include "sim/explore/seeds.h"
#include "sim/isolated_run.h"
#include "sim/report/atomic_file.h"
#include "sim/report/report.h"
#include "sim/scenario/loader.h"
#include "sim/testbench.h"

namespace qedisim {

namespace fs = std::filesystem;

std::pair<std::uint64_t, std::uint64_t> parse_shard(const std::string& text) {
  static const std::regex kShard("([0-9]{1,9})/([0-9]{1,9})");
  std::smatch m;
  if (!std::regex_match(text, m, kShard))
    throw OptionError(fmt::format("--shard must be i/n with 0 <= i < n, e.g. 0/4; got '{}'", text));
  const std::uint64_t i = std::stoull(m[1]);
  const std::uint64_t n = std::stoull(m[2]);
  if (n == 0 || i >= n) throw OptionError(fmt::format("--shard must be i/n with 0 <= i < n, e.g. 0/4; got '{}'", text));
  return {i, n};
}

double parse_time_budget(const std::string& text) {
  static const std::regex kBudget("([0-9]+(?:\\.[0-9]+)?)(s|m|h)?");
  std::smatch m;
  if (!std::regex_match(text, m, kBudget))
    throw OptionError(
        fmt::format("--time-budget must be a number of seconds or have unit s, m or h (90s, 10m, 2h); "
                    "got '{}'",
                    text));
  const double v = std::stod(m[1]);
  const std::string unit = m[2];
  const double s = unit == "h" ? v * 3600 : unit == "m" ? v * 60 : v;
  if (s <= 0) throw OptionError(fmt::format("--time-budget must be positive, got '{}'", text));
  return s;
}

Duration parse_duration_option(const std::string& text, const std::string& what) {
  // The scenario syntax, checked by the scenario loader itself.
  try {
    return load_scenario_text(fmt::format("qedisim: 1\nname: x\nparams: {{sched.jitter: \"{}\"}}\n", text), what)
        .params.sched_jitter;
  } catch (const ScenarioError&) {
    throw OptionError(fmt::format("{} must be a duration with unit ns, us, ms or s (e.g. 50us), got '{}'", what, text));
  }
}

using Clock = std::chrono::steady_clock;

namespace {
std::string eta_text(double s) {
  if (!std::isfinite(s) || s < 0) return "?";
  const auto t = std::llround(s);
  if (t >= 3600) return fmt::format("{}h{:02d}m", t / 3600, static_cast<int>(t % 3600 / 60));
  if (t >= 60) return fmt::format("{}m{:02d}s", t / 60, static_cast<int>(t % 60));
  return fmt::format("{}s", t);
}

}  // namespace

double seconds_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

Progress::Progress(std::uint64_t total, bool enabled, const char* label)
    : total_(total),
      enabled_(enabled && total > 0),
      tty_(::isatty(STDERR_FILENO) != 0),
      label_(label),
      t0_(Clock::now()) {}

void Progress::update(std::uint64_t done, std::uint64_t failing, bool final) {
  if (!enabled_) return;
  const double elapsed = seconds_since(t0_);
  const double rate = elapsed > 0 ? static_cast<double>(done) / elapsed : 0.0;
  const std::string text =
      fmt::format("{}/{} runs, {} violating, {:.1f} runs/s, ETA {}", done, total_, failing, rate,
                  done == total_ ? "0s" : eta_text(rate > 0 ? static_cast<double>(total_ - done) / rate : NAN));
  if (tty_) {
    if (!final && elapsed - last_draw_ < 0.1) return;
    last_draw_ = elapsed;
    const int width = 30;
    const int filled =
        static_cast<int>(static_cast<double>(width) * static_cast<double>(done) / static_cast<double>(total_));
    fmt::print(stderr, "\r[{}{}] {}\033[K", std::string(static_cast<std::size_t>(filled), '#'),
               std::string(static_cast<std::size_t>(width - filled), '.'), text);
    if (final) fmt::print(stderr, "\n");
    std::fflush(stderr);
    return;
  }
  const std::uint64_t tenth = done * 10 / total_;
  if (final ? done == last_done_ : (tenth == last_tenth_ && elapsed - last_draw_ < 30.0)) return;
  last_tenth_ = tenth;
  last_done_ = done;
  last_draw_ = elapsed;
  fmt::print(stderr, "{}: {}\n", label_, text);
}

std::string path_part(const std::string& s) {
  std::string out;
  for (char c : s)
    out.push_back(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' ? c : '_');
  if (out.empty() || out == "." || out == "..") out = "unknown";
  return out;
}

namespace {

std::string fixes_text(const std::vector<std::string>& names) {
  if (names.size() == static_cast<std::size_t>(kPatchCount)) return "all";
  if (names.empty()) return "none";
  std::vector<std::string> off;
  for (int i = 1; i <= kPatchCount; ++i) {
    const std::string n = patch_name(static_cast<Patch>(i));
    if (std::find(names.begin(), names.end(), n) == names.end()) off.push_back(n);
  }
  if (off.size() < names.size()) return fmt::format("all but {}", fmt::join(off, ", "));
  return fmt::format("{}", fmt::join(names, ", "));
}

}  // namespace

RunSummary summary_from_child(std::size_t run, std::uint64_t seed, ChildOutcome&& o, bool* interrupted) {
  RunSummary s;
  s.run = run;
  s.seed = seed;
  if (!o.ok) {
    s.error = fmt::format("run {} (seed {}): simulation child {}", run, seed, o.error);
    return s;
  }
  std::string end_reason;
  if (!decode_payload(o.payload, s, end_reason)) {
    s.error = fmt::format("run {} (seed {}): simulation child returned no result", run, seed);
    return s;
  }
  if (end_reason == "interrupted") *interrupted = true;
  return s;
}

void print_campaign_summary(const Campaign& c, const std::string& reproducer_note, bool merged) {
  const std::string shard =
      c.shard_count == 1 ? std::string() : fmt::format(", shard {}/{}", fmt::join(c.shards, ","), c.shard_count);
  if (c.file.empty())  // swarm: every run draws its own scenario and jitter
    fmt::print("swarm: {} of {} runs{}{}, base seed {}, fixes {}\n", c.runs_done, c.runs_planned(), shard,
               c.complete ? "" : " (stopped early)", c.base_seed, fixes_text(c.fixes));
  else
    fmt::print("explore {}: {} of {} runs{}{}, base seed {}, jitter {}, fixes {}\n", c.scenario, c.runs_done,
               c.runs_planned(), shard, c.complete ? "" : " (stopped early)", c.base_seed,
               format_duration(Duration{c.jitter_ns}), fixes_text(c.fixes));
  if (c.ids.empty()) fmt::print("  no invariant violated\n");
  for (const auto& [id, s] : c.ids) {
    std::vector<std::string> where;
    for (const auto& [fn, fs] : s.functions) where.push_back(fmt::format("{} ({})", fn, fs.runs));
    fmt::print("  {:<24} {:>8} runs  first: run {} seed {}  {}  in {}\n", id, s.seen.runs, s.seen.first_run,
               s.seen.first_seed, s.expected ? "[expected]" : "[NOT EXPECTED]", fmt::join(where, ", "));
  }
  if (c.errors.runs)
    fmt::print("  internal errors in {} runs, first run {} seed {}: {}\n", c.errors.runs, c.errors.first_run,
               c.errors.first_seed, c.first_error);
  const nlohmann::json cov = c.to_json().at("coverage");
  fmt::print("  coverage: {} of {} catalog failpoints reached ({} points in all); {} of {} TMF state transitions\n",
             cov.at("catalog_points_reached").get<std::size_t>(), cov.at("catalog_points").get<std::size_t>(),
             c.points.size(), cov.at("tmf_transitions_reached").get<std::size_t>(),
             cov.at("tmf_transitions_known").get<std::size_t>());
  std::vector<std::string> seen;
  for (const auto& [t, st] : c.tmf_transitions) seen.push_back(fmt::format("{} ({} runs)", t, st.runs));
  if (!seen.empty()) fmt::print("    TMF transitions reached: {}\n", fmt::join(seen, ", "));
  const auto missing = cov.at("tmf_transitions_not_reached").get<std::vector<std::string>>();
  if (!missing.empty()) fmt::print("    TMF transitions not reached: {}\n", fmt::join(missing, ", "));
  auto runs_list = [](const std::map<std::string, PointStats>& m) {
    std::vector<std::string> v;
    v.reserve(m.size());
    for (const auto& [name, st] : m) v.push_back(fmt::format("{} ({})", name, st.runs));
    return fmt::format("{}", fmt::join(v, ", "));
  };
  if (!c.session_transitions.empty())
    fmt::print("    session state transitions reached (runs): {}\n", runs_list(c.session_transitions));
  if (!c.eh_levels.empty()) fmt::print("    deepest EH level (runs): {}\n", runs_list(c.eh_levels));
  if (!c.fault_kinds.empty()) fmt::print("    fault kinds drawn (runs): {}\n", runs_list(c.fault_kinds));
  const double rate = c.wall_s > 0 ? static_cast<double>(c.runs_done) / c.wall_s : 0.0;
  if (merged) {
    fmt::print("  {} runs; the parts took {:.2f}s wall in all ({:.1f} runs per part-second, {} jobs in all)\n",
               c.runs_done, c.wall_s, rate, c.jobs);
  } else {
    fmt::print("  {} runs in {:.2f}s wall: {:.1f} runs/s ({:.1f} per job, {} job{})\n", c.runs_done, c.wall_s, rate,
               rate / std::max(1, c.jobs), c.jobs, c.jobs == 1 ? "" : "s");
  }
  if (!reproducer_note.empty()) fmt::print("  {}\n", reproducer_note);
  if (c.errors.runs) {
    fmt::print("verdict: ERROR ({} run(s) failed internally)\n", c.errors.runs);
  } else if (c.violated()) {
    fmt::print("verdict: VIOLATED ({} of {} runs report an invariant beyond expect.fixed)\n", c.failing_runs,
               c.runs_done);
  } else {
    fmt::print("verdict: CLEAN (no run reports an invariant beyond expect.fixed)\n");
  }
}

int campaign_exit_code(const Campaign& c) {
  if (c.errors.runs) return kExitInternal;
  return c.violated() ? kExitViolation : kExitClean;
}

int run_explore(const ExploreOptions& o) {
  const auto [shard_index, shard_count] = parse_shard(o.shard);
  const double budget = o.time_budget.empty() ? 0.0 : parse_time_budget(o.time_budget);
  if (o.runs == 0) throw OptionError("--runs must be at least 1");
  if (o.jobs < 1 || o.jobs > 1024) throw OptionError("--jobs must be 1..1024");
  Scenario base = load_scenario_file(o.file);
  if (!o.json_path.empty()) check_writable(o.json_path);

  FixSet fixes = base.fixes;
  if (!o.at.empty()) fixes = base.series_fixes(*series_point_from_string(o.at), "--at " + o.at);
  for (const auto& r : o.revert) fixes.set(*patch_from_string(r), false);
  const bool file_jitter =
      std::find(base.written_params.begin(), base.written_params.end(), "sched.jitter") != base.written_params.end();
  const Duration jitter = !o.jitter.empty() ? parse_duration_option(o.jitter, "--jitter")
                          : file_jitter     ? base.params.sched_jitter
                                            : kDefaultExploreJitter;
  // Every run's scenario: the file with the campaign's jitter and fix set.
  Scenario run_scenario = base;
  run_scenario.params.sched_jitter = jitter;
  if (!file_jitter) run_scenario.written_params.push_back("sched.jitter");
  run_scenario.fixes = fixes;
  auto set_param = [&](const char* key) {
    if (std::find(run_scenario.written_params.begin(), run_scenario.written_params.end(), key) ==
        run_scenario.written_params.end())
      run_scenario.written_params.push_back(key);
  };
  if (!o.stall.empty()) {
    run_scenario.params.sched_stall = parse_duration_option(o.stall, "--stall");
    set_param("sched.stall");
  }
  if (o.stall_points) {
    run_scenario.params.sched_stall_points = *o.stall_points;
    set_param("sched.stall_points");
  }
  if (o.no_holds) {  // windows anywhere only: the named host points go, the device and target faults stay
    auto& f = run_scenario.failpoints;
    f.erase(std::remove_if(f.begin(), f.end(),
                           [](const Failpoint& p) {
                             return p.point.rfind("qedi.", 0) == 0 || p.point.rfind("libiscsi.", 0) == 0;
                           }),
            f.end());
  }
  const FixSet effective = fixes.effective();
  const std::uint64_t base_seed = o.seed.value_or(base.seed);

  Campaign c;
  c.scenario = base.name;
  c.file = o.file;
  c.base_seed = base_seed;
  c.runs_total = o.runs;
  c.shard_count = shard_count;
  c.shards = {shard_index};
  c.jitter_ns = jitter.ns;
  c.fixes = effective.names();
  for (auto id : base.expect.fixed) c.expected.emplace_back(to_string(id));
  c.jobs = o.jobs;

  std::vector<std::size_t> tasks;
  for (std::uint64_t i = shard_index; i < o.runs; i += shard_count) tasks.push_back(static_cast<std::size_t>(i));

  const fs::path out_dir = o.out_dir.empty() ? fs::path("explore-out") / base.name : fs::path(o.out_dir);
  std::map<std::pair<std::string, std::string>, std::uint64_t> written_per_folder;
  std::uint64_t reproducers = 0;
  auto write_reproducer = [&](const Failure& f) {
    auto& n = written_per_folder[{f.id, f.function}];
    if (o.keep != 0 && n >= o.keep) return;
    ++n;
    Scenario repro = run_scenario;
    repro.seed = f.seed;
    repro.about = fmt::format(
        "Reproducer written by qedisim explore: run {} of a campaign over {} with base seed {} reported {} in {} "
        "(run ids: {}). `qedisim run` on this file shows it again.{}{}",
        f.run, o.file, base_seed, f.id, f.function, fmt::join(f.ids, ", "), base.about.empty() ? "" : "\n", base.about);
    const fs::path dir = out_dir / path_part(f.id) / path_part(f.function);
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw OutputError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    const fs::path path = dir / fmt::format("{}-seed-{}.yaml", base.name, f.seed);
    write_file_atomically(path.string(), scenario_to_yaml(repro));
    if (o.log) {  // the reproducer's run again, in a child, with its kernel-style log beside it
      RunOptions ro;
      ro.fixes = effective;
      ro.seed = f.seed;
      ro.log_path = (dir / fmt::format("{}-seed-{}.log", base.name, f.seed)).string();
      run_in_child(run_scenario, ro);
    }
    ++reproducers;
  };

  // Results arrive in completion order; they are folded in run order so the
  // campaign (and the reproducers written) do not depend on the workers.
  std::map<std::size_t, RunSummary> pending;
  std::size_t next_fold = 0;
  bool interrupted = false;
  Progress progress(tasks.size(), !o.quiet, "explore");
  const auto t0 = Clock::now();

  // The model is elaborated once, here, and every child runs its copy with
  // the run's seed. Not with --log: a reproducer's log is written by a run
  // of its own, in a child, and starts with what elaboration printed.
  const bool elaborated = !o.log;
  if (elaborated) elaborate_simulation(run_scenario, effective);
  release_scratch_memory();  // before the children fork
  c.code_on_huge_pages = map_code_on_huge_pages().bytes;
  ForkPool pool;
  pool.jobs = o.jobs;
  pool.reuse = elaborated;  // every run starts from the elaborated model
  if (pool.reuse) {
    const std::string why = restore_point_probe();
    c.restore_point = why.empty() ? "on" : "off: " + why;
  }
  std::size_t processes = 0;
  pool.forked = &processes;
  pool.child = [&](std::size_t run) {
    RunOptions ro;
    ro.fixes = effective;
    ro.seed = derive_seed(base_seed, run);
    ro.campaign_answer_only = true;
    return encode_payload(elaborated ? run_elaborated(run_scenario, ro) : run_simulation(run_scenario, ro));
  };
  pool.done = [&](std::size_t run, ChildOutcome&& out) {
    pending.emplace(run, summary_from_child(run, derive_seed(base_seed, run), std::move(out), &interrupted));
    while (next_fold < tasks.size() && pending.count(tasks[next_fold])) {
      auto node = pending.extract(tasks[next_fold]);
      ++next_fold;
      if (interrupted) continue;
      if (auto f = c.add(node.mapped())) write_reproducer(*f);
    }
  };
  pool.stop = [&] { return interrupted || interrupt_signal() != 0 || (budget > 0 && seconds_since(t0) >= budget); };
  pool.tick = [&] { progress.update(c.runs_done, c.failing_runs, false); };
  const std::size_t launched = pool.run(tasks);
  c.wall_s = seconds_since(t0);
  c.processes = processes;
  c.complete = launched == tasks.size();
  progress.update(c.runs_done, c.failing_runs, true);

  if (interrupted || interrupt_signal() != 0) {
    std::fflush(stdout);
    fmt::print(stderr, "qedisim: explore interrupted after {} runs; no campaign result written\n", c.runs_done);
    return 128 + (interrupt_signal() ? interrupt_signal() : 2);
  }
  if (!o.json_path.empty()) write_file_atomically(o.json_path, c.to_json().dump(2) + "\n");
  std::string note;
  if (reproducers)
    note = fmt::format("reproducers: {} written under {}/<invariant>/<function>/{}", reproducers, out_dir.string(),
                       o.keep ? fmt::format(" (at most {} per folder; --keep 0 for all)", o.keep) : "");
  print_campaign_summary(c, note, false);
  if (!o.json_path.empty()) fmt::print("  campaign result: {}\n", o.json_path);
  return campaign_exit_code(c);
}

}  // namespace qedisim
