#include "sim/explore/shrink.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "sim/cli.h"
#include "sim/explore/explore.h"
#include "sim/explore/huge_text.h"
#include "sim/explore/scenario_yaml.h"
#include "sim/isolated_run.h"
#include "sim/report/atomic_file.h"
#include "sim/scenario/loader.h"
#include "sim/testbench.h"

namespace qedisim {

namespace {

// One reduction step of the current best scenario.
struct Candidate {
  bool end = false;           // no k-th candidate of this kind: next kind
  std::optional<Scenario> s;  // empty: nothing to try for this k
  std::string what;           // for the log: "remove action 1 (scsi.reset)"
};
using Generator = std::function<Candidate(const Scenario&, std::size_t)>;

Candidate end_of_list() { return Candidate{true, std::nullopt, {}}; }
Candidate nothing() { return Candidate{false, std::nullopt, {}}; }
Candidate try_this(Scenario s, std::string what) { return Candidate{false, std::move(s), std::move(what)}; }

// Halving stops at 1us: below that a duration is noise.
bool halvable(Duration d) { return d.ns >= 2000; }
Duration half(Duration d) { return Duration{d.ns / 2}; }

std::vector<Generator> generators() {
  std::vector<Generator> g;
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.actions.size()) return end_of_list();
    Scenario s = b;
    s.actions.erase(s.actions.begin() + static_cast<std::ptrdiff_t>(k));
    return try_this(s, fmt::format("remove action {} ({})", k, to_string(b.actions[k].kind)));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.failpoints.size()) return end_of_list();
    Scenario s = b;
    s.failpoints.erase(s.failpoints.begin() + static_cast<std::ptrdiff_t>(k));
    return try_this(s, fmt::format("remove failpoint {} ({})", k, b.failpoints[k].point));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.workload.size()) return end_of_list();
    Scenario s = b;
    s.workload.erase(s.workload.begin() + static_cast<std::ptrdiff_t>(k));
    // scsi.abort names its stream by index: drop the ones on this stream, renumber the rest.
    std::vector<Action> kept;
    for (auto a : s.actions) {
      if (a.kind == ActionKind::scsi_abort) {
        if (a.args.stream == k) continue;
        if (a.args.stream > k) --a.args.stream;
      }
      kept.push_back(a);
    }
    s.actions = kept;
    return try_this(s, fmt::format("remove workload stream {}", k));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k > 0) return end_of_list();
    if (b.sessions.size() < 2) return nothing();
    Scenario s = b;
    s.sessions.pop_back();  // the loader rejects it while anything refers to it
    return try_this(s, fmt::format("remove session {}", b.sessions.size() - 1));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.written_params.size()) return end_of_list();
    Scenario s = b;  // the text no longer sets it: the reload gives the default
    s.written_params.erase(s.written_params.begin() + static_cast<std::ptrdiff_t>(k));
    return try_this(s, fmt::format("drop param {}", b.written_params[k]));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.failpoints.size()) return end_of_list();
    const NthSpec& nth = b.failpoints[k].match.nth;
    if (nth.every == 0 && nth.list.empty()) return nothing();
    Scenario s = b;
    s.failpoints[k].match.nth = NthSpec{};
    return try_this(s, fmt::format("failpoint {}: every occurrence (no nth)", k));
  });
  // v2 choices made fixed: a range becomes one of its ends, a drop
  // probability a plain drop (the result reads like a hand-written v1 file).
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= 2 * b.failpoints.size()) return end_of_list();
    const std::size_t i = k / 2;
    const FailAction& a = b.failpoints[i].action;
    if (a.kind != FailAction::Kind::delay || !a.delay_max) return nothing();
    Scenario s = b;
    FailAction& n = s.failpoints[i].action;
    if (k % 2) n.delay = *a.delay_max;
    n.delay_max.reset();
    return try_this(s, fmt::format("failpoint {}: fixed delay {}", i, format_duration(n.delay)));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.failpoints.size()) return end_of_list();
    const FailAction& a = b.failpoints[k].action;
    if (a.kind != FailAction::Kind::drop || a.drop_probability >= 1.0) return nothing();
    Scenario s = b;
    s.failpoints[k].action.drop_probability = 1.0;
    return try_this(s, fmt::format("failpoint {}: always drop", k));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.workload.size()) return end_of_list();
    if (b.workload[k].ops < 2) return nothing();
    Scenario s = b;
    s.workload[k].ops /= 2;
    return try_this(s, fmt::format("stream {}: ops {} -> {}", k, b.workload[k].ops, s.workload[k].ops));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.workload.size()) return end_of_list();
    if (b.workload[k].depth < 2) return nothing();
    Scenario s = b;
    s.workload[k].depth /= 2;
    return try_this(s, fmt::format("stream {}: depth {} -> {}", k, b.workload[k].depth, s.workload[k].depth));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.failpoints.size()) return end_of_list();
    const FailAction& a = b.failpoints[k].action;
    if (a.kind != FailAction::Kind::delay || !halvable(a.delay_max ? *a.delay_max : a.delay)) return nothing();
    Scenario s = b;
    FailAction& n = s.failpoints[k].action;
    n.delay = half(n.delay);
    if (n.delay_max) n.delay_max = half(*n.delay_max);
    return try_this(s, fmt::format("failpoint {}: halve the delay", k));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.actions.size()) return end_of_list();
    if (!b.actions[k].at || !halvable(*b.actions[k].at)) return nothing();
    Scenario s = b;
    s.actions[k].at = half(*s.actions[k].at);
    return try_this(s, fmt::format("action {}: at {}", k, format_duration(*s.actions[k].at)));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.workload.size()) return end_of_list();
    if (!halvable(b.workload[k].start)) return nothing();
    Scenario s = b;
    s.workload[k].start = half(s.workload[k].start);
    return try_this(s, fmt::format("stream {}: start {}", k, format_duration(s.workload[k].start)));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k >= b.written_params.size()) return end_of_list();
    const ParamInfo* info = find_param(b.written_params[k]);
    if (!info || info->kind != ParamKind::duration) return nothing();
    const Duration d = duration_param(b.params, info->key);
    if (!halvable(d)) return nothing();
    Scenario s = b;
    set_param(s.params, info->key, half(d));
    return try_this(s, fmt::format("param {}: {}", info->key, format_duration(half(d))));
  });
  g.push_back([](const Scenario& b, std::size_t k) {
    if (k > 0) return end_of_list();
    if (!halvable(b.stop_at)) return nothing();
    Scenario s = b;
    s.stop_at = half(s.stop_at);
    return try_this(s, fmt::format("stop_at {}", format_duration(s.stop_at)));
  });
  return g;
}

struct Size {
  std::size_t entries = 0;
  std::uint64_t ops = 0;
  std::uint64_t depth = 0;
};

Size size_of(const Scenario& s) {
  Size z;
  z.entries = s.workload.size() + s.actions.size() + s.failpoints.size() + s.sessions.size() + s.written_params.size();
  for (const auto& w : s.workload) {
    z.ops += w.ops;
    z.depth += w.depth;
  }
  return z;
}

std::string default_out(const std::string& file) {
  const std::filesystem::path p(file);
  return (p.parent_path() / (p.stem().string() + ".shrunk.yaml")).string();
}

// Runs candidates, each exactly as its text would be written (the candidate
// reloaded), in a forked child, and keeps the reductions that still fire.
class Shrinker {
 public:
  Shrinker(std::string origin, const ShrinkTarget& target, std::uint64_t max_runs)
      : origin_(std::move(origin)), target_(target), max_runs_(max_runs) {
    release_scratch_memory();  // before the children fork
    map_code_on_huge_pages();
  }

  // The scenario as loaded back from its text when it fires the target (or,
  // with `result`, whenever it ran); nullopt otherwise.
  std::optional<Scenario> evaluate(const Scenario& cand, RunResult* result) {
    const std::string text = scenario_to_yaml(cand);
    if (!result && tried_.count(text)) return std::nullopt;
    Scenario loaded;
    try {
      loaded = load_scenario_text(text, origin_);
    } catch (const ScenarioError&) {
      tried_.insert(text);  // e.g. an action still names the removed session
      return std::nullopt;
    }
    if (runs_ >= max_runs_) {
      budget_hit_ = true;
      return std::nullopt;
    }
    ++runs_;
    tried_.insert(text);
    RunOptions ro;
    ro.fixes = loaded.fixes.effective();
    ro.seed = loaded.seed;
    RunResult r;
    try {
      r = run_in_child(loaded, ro);
    } catch (const InternalError&) {
      if (target_.internal_error) return loaded;  // still the same kind of failure
      if (result) throw;
      return std::nullopt;  // a candidate that crashes the model is not the same finding
    }
    if (r.end_reason == "interrupted") throw InternalError("interrupted");
    bool fired = !target_.ids.empty() && !target_.internal_error;
    for (auto id : target_.ids)
      fired = fired &&
              std::any_of(r.violations.begin(), r.violations.end(), [id](const Violation& v) { return v.id == id; });
    if (result) *result = r;
    return fired || result ? std::optional<Scenario>(loaded) : std::nullopt;
  }

  Scenario minimize(Scenario current, bool quiet) {
    const auto gens = generators();
    for (bool progress = true; progress && !budget_hit_;) {
      progress = false;
      for (const auto& gen : gens) {
        for (std::size_t k = 0; !budget_hit_;) {
          Candidate c = gen(current, k);
          if (c.end) break;
          if (!c.s) {
            ++k;
            continue;
          }
          if (auto kept = evaluate(*c.s, nullptr)) {
            current = *kept;
            progress = true;
            if (!quiet) fmt::print("  kept: {}\n", c.what);
            // A removal moved the next entry to k; a reduction retries k.
          } else {
            ++k;
          }
        }
      }
    }
    return current;
  }

  void set_ids(std::vector<InvariantId> ids) { target_.ids = std::move(ids); }
  std::uint64_t runs() const { return runs_; }
  bool budget_hit() const { return budget_hit_; }

 private:
  std::string origin_;
  ShrinkTarget target_;
  std::uint64_t max_runs_;
  std::set<std::string> tried_;
  std::uint64_t runs_ = 0;
  bool budget_hit_ = false;
};

}  // namespace

std::string shrink_target_text(const ShrinkTarget& t) {
  if (t.internal_error) return "an internal error";
  std::vector<std::string> names;
  for (auto id : t.ids) names.emplace_back(to_string(id));
  return fmt::format("{}", fmt::join(names, ", "));
}

ShrinkOutcome shrink_scenario(const Scenario& input, const ShrinkTarget& target, std::uint64_t max_runs,
                              const std::string& origin, bool quiet) {
  Shrinker sh(origin, target, max_runs);
  ShrinkOutcome out;
  const std::optional<Scenario> first = sh.evaluate(input, nullptr);
  out.fired = first.has_value();
  out.best = first ? sh.minimize(*first, quiet) : input;
  out.runs = sh.runs();
  out.budget_hit = sh.budget_hit();
  return out;
}

int run_shrink(const ShrinkOptions& o) {
  Scenario input = load_scenario_file(o.file);
  for (const auto& r : o.revert) input.fixes.set(*patch_from_string(r), false);
  if (o.seed) input.seed = *o.seed;
  const std::string out = o.out.empty() ? default_out(o.file) : o.out;
  std::vector<Size> references;
  references.reserve(o.compare.size());
  for (const auto& f : o.compare) references.push_back(size_of(load_scenario_file(f)));
  check_writable(out);
  std::vector<InvariantId> targets;
  for (const auto& id : o.ids) {
    const auto v = enum_from_string<InvariantId>(id);
    if (!v || is_warning(*v))
      throw OptionError(fmt::format("--id: unknown invariant id '{}' (allowed: {})", id, allowed_names<InvariantId>()));
    targets.push_back(*v);
  }

  ShrinkTarget target{targets, false};
  Shrinker sh(o.file, target, o.max_runs);
  RunResult first;
  std::optional<Scenario> best = sh.evaluate(input, &first);
  if (targets.empty()) {
    const Violation* pick = nullptr;
    for (const auto& v : first.violations) {
      const bool expected =
          std::find(input.expect.fixed.begin(), input.expect.fixed.end(), v.id) != input.expect.fixed.end();
      if (!expected && (!pick || v.time_ns < pick->time_ns)) pick = &v;
    }
    if (!pick) {
      fmt::print(stderr,
                 "qedisim: shrink: {} reports no invariant beyond expect.fixed with fixes {} and seed {}; "
                 "nothing to shrink (name one with --id)\n",
                 o.file, fixes_to_yaml(input.fixes), input.seed);
      return kExitBadInput;
    }
    targets.push_back(pick->id);
  } else {
    for (auto id : targets)
      if (std::none_of(first.violations.begin(), first.violations.end(),
                       [id](const Violation& v) { return v.id == id; })) {
        fmt::print(stderr, "qedisim: shrink: {} does not report {} with fixes {} and seed {}\n", o.file, to_string(id),
                   fixes_to_yaml(input.fixes), input.seed);
        return kExitBadInput;
      }
  }
  std::vector<std::string> target_names;
  target_names.reserve(targets.size());
  for (auto id : targets) target_names.emplace_back(to_string(id));
  if (!o.quiet)
    fmt::print("shrink {}: keeping changes while {} still fire(s) (fixes {}, seed {})\n", o.file,
               fmt::join(target_names, ", "), fixes_to_yaml(input.fixes), input.seed);

  sh.set_ids(targets);
  Scenario current = sh.minimize(*best, o.quiet);
  const std::uint64_t runs = sh.runs();
  const bool budget_hit = sh.budget_hit();

  const Size before = size_of(input);
  const Size after = size_of(current);
  current.about = fmt::format("Shrunk by qedisim shrink from {} ({} candidate runs); still reports {}.", o.file, runs,
                              fmt::join(target_names, ", "));
  write_file_atomically(out, scenario_to_yaml(current));
  fmt::print("shrink: entries {} -> {}, ops {} -> {}, depth {} -> {}, {} candidate runs{}\n", before.entries,
             after.entries, before.ops, after.ops, before.depth, after.depth, runs,
             budget_hit ? " (stopped at --max-runs)" : "");
  fmt::print("  wrote {}; `qedisim run {}` reports {}\n", out, out, fmt::join(target_names, ", "));
  bool all_no_larger = true;
  for (std::size_t i = 0; i < references.size(); ++i) {
    const Size& ref = references[i];
    const bool no_larger = after.entries <= ref.entries && after.ops <= ref.ops;
    all_no_larger = all_no_larger && no_larger;
    fmt::print("compare: shrunk entries {}, ops {}; {} entries {}, ops {}: {}\n", after.entries, after.ops,
               o.compare[i], ref.entries, ref.ops, no_larger ? "no larger" : "LARGER");
  }
  return all_no_larger ? kExitClean : kExitViolation;
}

}  // namespace qedisim
