// The run report: judging a run against its expectations, the JSON report
// (docs/scenarios.md "Report") and the human summary printed on stdout.
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "sim/testbench.h"

namespace qedisim {

struct Judgement {
  bool met = true;
  std::vector<std::string> details;  // one line per unmet item
};

// `expected` is an exact set of violation ids (warnings never count);
// `final` (may be null) compares end-of-run counters.
Judgement judge(const RunResult& result, const std::vector<InvariantId>& expected, const FinalCounters* final);

// `check --history`: the race's ids (`race`) must appear in a run as of the
// patch before (`must_appear`) and be gone in a run as of the patch itself.
// `as_of` names the point of the series for the messages ("p08").
Judgement judge_history(const RunResult& result, const std::vector<InvariantId>& race, bool must_appear,
                        const std::string& as_of);

// Folds repeats of (id, object type, function) into the first one's count.
std::vector<Violation> fold_repeats(const std::vector<Violation>& violations);

// "all", "none", "all but p11", "p06, p11"
std::string describe_fixes(const FixSet& fixes);

nlohmann::json report_json(const Scenario& scenario, const RunOptions& options, const RunResult& result,
                           const Judgement& judgement);

// One finding as the report and the pipes between processes write it.
nlohmann::json violation_json(const Violation& v);
Violation violation_from_json(const nlohmann::json& j);

// RunResult through a pipe between a forked run and its parent.
nlohmann::json result_to_json(const RunResult& result);
RunResult result_from_json(const nlohmann::json& j);

}  // namespace qedisim
