#include "sim/explore/swarm.h"

#include <fmt/format.h>

#include <filesystem>
#include <map>

#include "sim/cli.h"
#include "sim/explore/explore.h"
#include "sim/explore/fork_pool.h"
#include "sim/explore/huge_text.h"
#include "sim/explore/payload.h"
#include "sim/explore/scenario_yaml.h"
#include "sim/explore/seeds.h"
#include "sim/explore/shrink.h"
#include "sim/explore/swarm_draw.h"
#include "sim/isolated_run.h"
#include "sim/report/atomic_file.h"
#include "sim/scenario/loader.h"
#include "sim/testbench.h"

namespace qedisim {

namespace fs = std::filesystem;

namespace {

// Run `seed`'s scenario exactly as its reproducer will hold it: drawn,
// written out with the campaign's fix set, and loaded back.
Scenario swarm_scenario(std::uint64_t seed, const FixSet& fixes, std::vector<std::string>* kinds) {
  SwarmDraw d = draw_swarm_scenario(seed);
  d.scenario.fixes = fixes;
  if (kinds) *kinds = d.kinds;
  return load_scenario_text(scenario_to_yaml(d.scenario), fmt::format("swarm-seed-{}", seed));
}

// A run kept for a reproducer: its failure, or its internal error.
struct Kept {
  std::uint64_t run = 0;
  std::uint64_t seed = 0;
  std::optional<Failure> failure;  // empty: an internal error
  std::string error;
};

}  // namespace

int run_swarm(const SwarmOptions& o) {
  const auto [shard_index, shard_count] = parse_shard(o.shard);
  const double budget = o.time_budget.empty() ? 0.0 : parse_time_budget(o.time_budget);
  if (o.runs == 0) throw OptionError("--runs must be at least 1");
  if (o.jobs < 1 || o.jobs > 1024) throw OptionError("--jobs must be 1..1024");
  if (!o.json_path.empty()) check_writable(o.json_path);

  FixSet fixes = FixSet::all();
  if (!o.at.empty()) fixes = FixSet::up_to(*series_point_from_string(o.at));
  for (const auto& r : o.revert) fixes.set(*patch_from_string(r), false);
  const FixSet effective = fixes.effective();

  Campaign c;
  c.scenario = "swarm";
  c.base_seed = o.seed;
  c.runs_total = o.runs;
  c.shard_count = shard_count;
  c.shards = {shard_index};
  c.fixes = effective.names();
  c.jobs = o.jobs;

  std::vector<std::size_t> tasks;
  for (std::uint64_t i = shard_index; i < o.runs; i += shard_count) tasks.push_back(static_cast<std::size_t>(i));

  // Reproducers: the first `keep` failing runs of each (invariant, function)
  // folder and the first `keep` internal errors, in run order.
  std::map<std::pair<std::string, std::string>, std::uint64_t> per_folder;
  std::vector<Kept> kept;
  auto keep_run = [&](const std::string& id, const std::string& fn, Kept k) {
    auto& n = per_folder[{id, fn}];
    if (o.keep != 0 && n >= o.keep) return;
    ++n;
    kept.push_back(std::move(k));
  };

  std::map<std::size_t, RunSummary> pending;
  std::size_t next_fold = 0;
  bool interrupted = false;
  Progress progress(tasks.size(), !o.quiet, "swarm");
  const auto t0 = std::chrono::steady_clock::now();

  release_scratch_memory();  // before the children fork
  c.code_on_huge_pages = map_code_on_huge_pages().bytes;
  ForkPool pool;
  std::size_t processes = 0;
  pool.forked = &processes;  // one per run: each draws and elaborates its own model
  pool.heap_pages = HeapPages::populate_ahead;
  pool.jobs = o.jobs;
  pool.child = [&](std::size_t run) {
    const std::uint64_t seed = derive_seed(o.seed, run);
    std::vector<std::string> kinds;
    const Scenario s = swarm_scenario(seed, fixes, &kinds);
    RunOptions ro;
    ro.fixes = effective;
    ro.seed = seed;
    ro.campaign_answer_only = true;
    return encode_payload(run_simulation(s, ro), kinds);
  };
  pool.done = [&](std::size_t run, ChildOutcome&& out) {
    pending.emplace(run, summary_from_child(run, derive_seed(o.seed, run), std::move(out), &interrupted));
    while (next_fold < tasks.size() && pending.count(tasks[next_fold])) {
      auto node = pending.extract(tasks[next_fold]);
      ++next_fold;
      if (interrupted) continue;
      const RunSummary& r = node.mapped();
      if (r.error) keep_run("internal-error", "", Kept{r.run, r.seed, std::nullopt, *r.error});
      if (auto f = c.add(r)) keep_run(f->id, f->function, Kept{f->run, f->seed, *f, {}});
    }
  };
  pool.stop = [&] { return interrupted || interrupt_signal() != 0 || (budget > 0 && seconds_since(t0) >= budget); };
  pool.tick = [&] { progress.update(c.runs_done, c.failing_runs + c.errors.runs, false); };
  const std::size_t launched = pool.run(tasks);
  c.wall_s = seconds_since(t0);
  c.processes = processes;
  c.complete = launched == tasks.size();
  progress.update(c.runs_done, c.failing_runs + c.errors.runs, true);

  auto was_interrupted = [&] {
    if (!interrupted && interrupt_signal() == 0) return false;
    std::fflush(stdout);
    fmt::print(stderr, "qedisim: swarm interrupted after {} runs; no campaign result written\n", c.runs_done);
    return true;
  };
  if (was_interrupted()) return 128 + (interrupt_signal() ? interrupt_signal() : 2);
  if (!o.json_path.empty()) write_file_atomically(o.json_path, c.to_json().dump(2) + "\n");

  // Each kept run: the draw as it ran, then (unless --shrink-runs 0) the
  // smallest scenario found that still fails the same way.
  const fs::path out_dir = o.out_dir.empty() ? fs::path("swarm-out") : fs::path(o.out_dir);
  std::uint64_t written = 0;
  struct ShrinkJob {
    const Kept* kept;
    Scenario drawn;
    fs::path dir;
    fs::path drawn_path;
    ShrinkTarget target;
  };
  std::vector<ShrinkJob> shrinks;
  for (const Kept& k : kept) {
    std::vector<std::string> kinds;
    Scenario drawn;
    std::string load_error;
    try {
      drawn = swarm_scenario(k.seed, fixes, &kinds);
    } catch (const ScenarioError& e) {  // a generator bug: the draw as text, unshrunk
      load_error = e.what();
    }
    const fs::path dir =
        k.failure ? out_dir / path_part(k.failure->id) / path_part(k.failure->function) : out_dir / "internal-error";
    std::error_code ec;
    fs::create_directories(dir, ec);
    if (ec) throw OutputError(fmt::format("cannot create {}: {}", dir.string(), ec.message()));
    const std::string what = k.failure ? fmt::format("reported {} in {} (run ids: {})", k.failure->id,
                                                     k.failure->function, fmt::join(k.failure->ids, ", "))
                                       : fmt::format("failed internally: {}", k.error);
    drawn.about = fmt::format(
        "Drawn by qedisim swarm: run {} of a campaign with base seed {} (fixes {}), fault kinds: {}. It {}. "
        "`qedisim run` on this file shows it again.",
        k.run, o.seed, fixes_to_yaml(fixes), kinds.empty() ? "none" : fmt::format("{}", fmt::join(kinds, ", ")), what);
    const fs::path drawn_path = dir / fmt::format("swarm-seed-{}.drawn.yaml", k.seed);
    if (!load_error.empty()) {
      SwarmDraw d = draw_swarm_scenario(k.seed);
      d.scenario.fixes = fixes;
      write_file_atomically(drawn_path.string(), fmt::format("# the loader refuses this draw: {}\n{}", load_error,
                                                             scenario_to_yaml(d.scenario)));
      ++written;
      continue;
    }
    write_file_atomically(drawn_path.string(), scenario_to_yaml(drawn));
    ++written;
    if (o.shrink_runs == 0) continue;
    ShrinkTarget target;
    if (k.failure)
      target.ids = {*enum_from_string<InvariantId>(k.failure->id)};
    else
      target.internal_error = true;
    shrinks.push_back(ShrinkJob{&k, std::move(drawn), dir, drawn_path, std::move(target)});
  }

  // The shrinks, --jobs at a time: each in a forked child of its own, which
  // runs its candidates one after another (each in a child of its own, as
  // `qedisim shrink` does). A shrink depends on its draw alone, so the
  // files are the same whatever --jobs; they are written here, in run order.
  double shrink_s = 0;
  if (!shrinks.empty()) {
    const auto shrink_t0 = std::chrono::steady_clock::now();
    ForkPool sp;
    sp.jobs = o.jobs;
    sp.child_heap = false;  // it forks its candidates
    sp.child = [&](std::size_t i) {
      const ShrinkJob& j = shrinks[i];
      const Kept& k = *j.kept;
      if (!o.quiet)
        fmt::print(stderr, "swarm: shrinking run {} (seed {}, {})\n", k.run, k.seed, shrink_target_text(j.target));
      ShrinkOutcome sh = shrink_scenario(j.drawn, j.target, o.shrink_runs, j.drawn_path.string(), true);
      if (!sh.fired) return std::string("-");  // the draw alone is the reproducer
      sh.best.about =
          fmt::format("{}\nShrunk by qedisim swarm from {} ({} candidate runs{}); it still {}.", j.drawn.about,
                      j.drawn_path.filename().string(), sh.runs, sh.budget_hit ? ", stopped at --shrink-runs" : "",
                      k.failure ? fmt::format("reports {}", k.failure->id) : std::string("fails internally"));
      return "+" + scenario_to_yaml(sh.best);
    };
    std::vector<ChildOutcome> shrunk(shrinks.size());
    sp.done = [&](std::size_t i, ChildOutcome&& out) { shrunk[i] = std::move(out); };
    sp.stop = [&] { return interrupt_signal() != 0; };
    std::vector<std::size_t> order(shrinks.size());
    for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
    const std::size_t launched = sp.run(order);
    const bool stopped = launched < order.size() || interrupt_signal() != 0;
    std::size_t done = 0;
    for (std::size_t i = 0; i < launched; ++i) {
      const ShrinkJob& j = shrinks[i];
      const ChildOutcome& out = shrunk[i];
      if (!out.ok) {
        if (stopped) continue;  // interrupted: its child stopped too
        throw InternalError(fmt::format("shrinking run {} (seed {}): {}", j.kept->run, j.kept->seed, out.error));
      }
      ++done;
      if (out.payload.front() == '+')
        write_file_atomically((j.dir / fmt::format("swarm-seed-{}.yaml", j.kept->seed)).string(),
                              out.payload.substr(1));
    }
    shrink_s = seconds_since(shrink_t0);
    if (stopped) {
      std::fflush(stdout);
      fmt::print(stderr,
                 "qedisim: swarm interrupted while shrinking: {} of {} reproducers shrunk; every draw{} written\n",
                 done, shrinks.size(), o.json_path.empty() ? " is" : " and the campaign result are");
      return 128 + (interrupt_signal() ? interrupt_signal() : 2);
    }
  }

  std::string note;
  if (written)
    note = fmt::format(
        "reproducers: {} under {}/<invariant>/<function>/ (swarm-seed-<seed>.yaml shrunk, .drawn.yaml as drawn; "
        "{})",
        written, out_dir.string(), o.keep ? fmt::format("at most {} per folder, --keep 0 for all", o.keep) : "all");
  if (!shrinks.empty())
    note += fmt::format("\n  shrinking: {} reproducers in {:.2f}s wall, {} at a time (--jobs)", shrinks.size(),
                        shrink_s, std::min<std::size_t>(shrinks.size(), static_cast<std::size_t>(o.jobs)));
  print_campaign_summary(c, note, false);
  if (!o.json_path.empty()) fmt::print("  campaign result: {}\n", o.json_path);
  return campaign_exit_code(c);
}

}  // namespace qedisim
