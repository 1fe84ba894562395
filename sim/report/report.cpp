#include "sim/report/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>
#include <tuple>

namespace qedisim {

namespace {
std::string object_type(const std::string& object) { return object.substr(0, object.find(' ')); }
}  // namespace

nlohmann::json violation_json(const Violation& v) {
  return nlohmann::json{{"id", std::string(to_string(v.id))},
                        {"time_ns", v.time_ns},
                        {"context", v.context},
                        {"object", v.object},
                        {"function", v.function},
                        {"message", v.message},
                        {"count", v.count}};
}

Violation violation_from_json(const nlohmann::json& j) {
  Violation v;
  v.id = enum_from_string<InvariantId>(j.at("id").get<std::string>()).value();
  v.time_ns = j.at("time_ns").get<std::int64_t>();
  v.context = j.at("context").get<std::string>();
  v.object = j.at("object").get<std::string>();
  v.function = j.at("function").get<std::string>();
  v.message = j.at("message").get<std::string>();
  v.count = j.at("count").get<std::uint64_t>();
  return v;
}

std::vector<Violation> fold_repeats(const std::vector<Violation>& violations) {
  std::vector<Violation> out;
  std::map<std::tuple<InvariantId, std::string, std::string>, std::size_t> index;
  for (const auto& v : violations) {
    const auto key = std::make_tuple(v.id, object_type(v.object), v.function);
    const auto it = index.find(key);
    if (it == index.end()) {
      index.emplace(key, out.size());
      out.push_back(v);
    } else {
      out[it->second].count += v.count;
    }
  }
  return out;
}

Judgement judge(const RunResult& result, const std::vector<InvariantId>& expected, const FinalCounters* final) {
  Judgement j;
  std::set<InvariantId> seen;
  for (const auto& v : result.violations) seen.insert(v.id);
  for (InvariantId id : expected)
    if (!seen.count(id)) j.details.push_back(fmt::format("expected {} but it was not reported", to_string(id)));
  for (InvariantId id : seen) {
    if (std::find(expected.begin(), expected.end(), id) != expected.end()) continue;
    const auto first = std::find_if(result.violations.begin(), result.violations.end(),
                                    [id](const Violation& v) { return v.id == id; });
    j.details.push_back(fmt::format("unexpected {}: {}", to_string(id), format_violation(*first)));
  }
  if (final) {
    auto compare = [&](const char* name, const std::optional<std::int64_t>& want) {
      if (!want) return;
      const auto it = result.counters.find(name);
      const std::int64_t got = it == result.counters.end() ? 0 : it->second;
      if (got != *want) j.details.push_back(fmt::format("final {}: expected {}, got {}", name, *want, got));
    };
    compare("tids_in_use", final->tids_in_use);
    compare("cmds_completed", final->cmds_completed);
    compare("cmds_failed", final->cmds_failed);
    if (final->eh_max_level && *final->eh_max_level != result.eh_max_level)
      j.details.push_back(fmt::format("final eh_max_level: expected {}, got {}", to_string(*final->eh_max_level),
                                      to_string(result.eh_max_level)));
  }
  j.met = j.details.empty();
  return j;
}

Judgement judge_history(const RunResult& result, const std::vector<InvariantId>& race, bool must_appear,
                        const std::string& as_of) {
  Judgement j;
  std::vector<std::string> names;
  names.reserve(race.size());
  for (InvariantId id : race) names.emplace_back(to_string(id));
  std::set<InvariantId> seen;
  for (const auto& v : result.violations) seen.insert(v.id);
  if (must_appear) {
    const bool any = std::any_of(race.begin(), race.end(), [&](InvariantId id) { return seen.count(id) > 0; });
    if (!any)
      j.details.push_back(fmt::format("none of {} reported as of {}: the race does not happen before the patch",
                                      fmt::join(names, ", "), as_of));
  } else {
    for (const auto& v : result.violations)
      if (std::find(race.begin(), race.end(), v.id) != race.end() && seen.erase(v.id))
        j.details.push_back(fmt::format("{} still reported as of {}: {}", to_string(v.id), as_of, format_violation(v)));
  }
  j.met = j.details.empty();
  return j;
}

std::string describe_fixes(const FixSet& fixes) {
  const auto on = fixes.names();
  if (on.size() == static_cast<std::size_t>(kPatchCount)) return "all";
  if (on.empty()) return "none";
  std::vector<std::string> off;
  for (int i = 1; i <= kPatchCount; ++i)
    if (!fixes.fixed(static_cast<Patch>(i))) off.push_back(patch_name(static_cast<Patch>(i)));
  if (off.size() <= on.size()) return fmt::format("all but {}", fmt::join(off, ", "));
  return fmt::format("{}", fmt::join(on, ", "));
}

nlohmann::json report_json(const Scenario& scenario, const RunOptions& options, const RunResult& result,
                           const Judgement& judgement) {
  nlohmann::json counters = nlohmann::json::object();
  for (const auto& [name, value] : result.counters) counters[name] = value;
  counters["eh_max_level"] = std::string(to_string(result.eh_max_level));
  nlohmann::json violations = nlohmann::json::array();
  for (const auto& v : fold_repeats(result.violations)) violations.push_back(violation_json(v));
  nlohmann::json warnings = nlohmann::json::array();
  for (const auto& v : fold_repeats(result.warnings)) warnings.push_back(violation_json(v));
  nlohmann::json j;
  j["qedisim_report"] = 1;
  j["scenario"] = scenario.name;
  j["file"] = scenario.file;
  j["about"] = scenario.about;
  j["patch"] = scenario.patch ? nlohmann::json(patch_name(*scenario.patch)) : nlohmann::json(nullptr);
  j["seed"] = options.seed;
  j["fixes"] = options.fixes.names();
  j["sim_time_ns"] = result.sim_time_ns;
  j["end_reason"] = result.end_reason;
  j["counters"] = counters;
  j["violations"] = violations;
  j["warnings"] = warnings;
  j["expectations"] = {{"met", judgement.met}, {"details", judgement.details}};
  return j;
}

nlohmann::json result_to_json(const RunResult& result) {
  nlohmann::json j;
  j["sim_time_ns"] = result.sim_time_ns;
  j["counters"] = result.counters;
  j["eh_max_level"] = std::string(to_string(result.eh_max_level));
  j["end_reason"] = result.end_reason;
  j["violations"] = nlohmann::json::array();
  for (const auto& v : result.violations) j["violations"].push_back(violation_json(v));
  j["warnings"] = nlohmann::json::array();
  for (const auto& v : result.warnings) j["warnings"].push_back(violation_json(v));
  return j;
}

RunResult result_from_json(const nlohmann::json& j) {
  RunResult r;
  r.sim_time_ns = j.at("sim_time_ns").get<std::int64_t>();
  r.counters = j.at("counters").get<std::map<std::string, std::int64_t>>();
  r.eh_max_level = enum_from_string<EhLevel>(j.at("eh_max_level").get<std::string>()).value();
  r.end_reason = j.at("end_reason").get<std::string>();
  for (const auto& v : j.at("violations")) r.violations.push_back(violation_from_json(v));
  for (const auto& v : j.at("warnings")) r.warnings.push_back(violation_from_json(v));
  return r;
}

}  // namespace qedisim
