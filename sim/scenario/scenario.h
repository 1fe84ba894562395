// A loaded, validated scenario (docs/scenarios.md, schema v1; v2 adds random
// failpoint actions, see FailAction). Every key of the format has a typed
// field here with its default already applied.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/duration.h"
#include "host_driver_model/fixes.h"
#include "sim/scenario/params.h"
#include "sim/scenario/vocabulary.h"

namespace qedisim {

// Where a construct was written, 1-based, for messages that point back at it.
struct SourceMark {
  int line = 0;
  int column = 0;
};

struct SessionSpec {
  std::uint32_t luns = 1;
  // Schema v2: this session's task pool (iscsid's node.session.cmds_max);
  // unset = the session.cmds_max parameter.
  std::optional<std::uint32_t> cmds_max;
};

struct WorkloadStream {
  std::uint32_t session = 0;
  std::uint32_t lun = 0;
  std::uint64_t ops = 0;  // required, > 0
  std::uint32_t depth = 1;
  Duration start{};
  OpKind op = OpKind::read;
  std::uint64_t size = 4096;  // bytes
  SourceMark mark;
};

// match.nth: 1-based occurrences; empty list and every == 0 means "every occurrence".
struct NthSpec {
  std::vector<std::uint64_t> list;
  std::uint64_t every = 0;
  bool matches(std::uint64_t occurrence) const;
};

struct Match {
  std::optional<std::uint32_t> session;
  std::optional<std::uint32_t> lun;
  std::optional<TmfFunction> function;
  std::optional<CqeType> type;
  std::optional<Gfp> gfp;
  std::optional<std::string> site;
  std::optional<std::uint32_t> cq;  // schema v2: fw.cqe only
  NthSpec nth;
};

struct FailAction {
  enum class Kind { drop, delay, respond, fail };
  Kind kind = Kind::drop;
  Duration delay{};                           // Kind::delay; the minimum of a v2 range
  TmfRespond respond = TmfRespond::complete;  // Kind::respond
  // Schema v2: {delay: {min: D, max: D}} draws a delay in [delay, *delay_max]
  // per matching occurrence; {drop: {probability: p}} drops with probability
  // p. Both draw from the run's seeded PRNG (Failpoints).
  std::optional<Duration> delay_max{};
  double drop_probability = 1.0;  // Kind::drop; 1 = always (v1 `drop`)
};

struct Failpoint {
  std::string point;
  Match match;
  FailAction action;
  SourceMark mark;
};

struct ActionTrigger {
  std::string point;
  std::uint64_t nth = 1;
};

struct Action {
  std::optional<Duration> at;  // exactly one of at / on
  std::optional<ActionTrigger> on;
  ActionKind kind = ActionKind::iscsid_logout;
  ActionArgs args;
  SourceMark mark;
};

struct FinalCounters {
  std::optional<std::int64_t> tids_in_use;
  std::optional<std::int64_t> cmds_completed;
  std::optional<std::int64_t> cmds_failed;
  std::optional<EhLevel> eh_max_level;
  bool empty() const { return !tids_in_use && !cmds_completed && !cmds_failed && !eh_max_level; }
};

struct Expect {
  std::vector<InvariantId> fixed;                    // default [] = clean
  std::optional<std::vector<InvariantId>> reverted;  // needs `patch`
  FinalCounters final;
};

struct Scenario {
  std::string file;  // as given on the command line
  int schema = 1;
  std::string name;
  std::string about;
  std::optional<Patch> patch;
  std::uint64_t seed = 1;
  Duration stop_at = Duration::from_s(600);
  FixSet fixes = FixSet::all();  // as written; FixSet::effective() applies dependencies
  // Where the file chose its own fix set (`fixes:` other than `all`): such a
  // file cannot be run `--at` a point of the series.
  std::optional<SourceMark> fixes_chosen;
  ModelParams params;
  std::vector<std::string> written_params;  // keys the file set, in file order
  std::vector<SessionSpec> sessions{SessionSpec{}};
  std::vector<WorkloadStream> workload;
  std::vector<Failpoint> failpoints;
  std::vector<Action> actions;
  Expect expect;

  // The fix set of `check`'s second run: `fixes` without `patch`.
  FixSet reverted_fixes() const;
  // The series applied up to and including patch number `point` (0 = base),
  // for `--at` and `check --history` (`asked_by` names which). A file that
  // chose its own fix set cannot be run so: ScenarioError at its fixes:.
  FixSet series_fixes(int point, const std::string& asked_by) const;
  // Every duration written in the file scaled by `factor` (timing robustness,
  // docs/scenarios.md): params, failpoint delays, action times, starts, stop_at.
  Scenario scaled(double factor) const;
};

}  // namespace qedisim
