#include "sim/scenario/scenario.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>

#include "sim/scenario/loader.h"

namespace qedisim {

bool NthSpec::matches(std::uint64_t occurrence) const {
  if (every != 0) return occurrence % every == 0;
  if (list.empty()) return true;
  return std::find(list.begin(), list.end(), occurrence) != list.end();
}

FixSet Scenario::series_fixes(int point, const std::string& asked_by) const {
  if (fixes_chosen)
    throw ScenarioError(file, fixes_chosen->line, fixes_chosen->column,
                        fmt::format("{} runs the series up to a patch, but this file chooses its own fixes (remove "
                                    "this fixes: key, or write fixes: all)",
                                    asked_by));
  return FixSet::up_to(point);
}

FixSet Scenario::reverted_fixes() const {
  FixSet s = fixes;
  if (patch) s.set(*patch, false);
  return s;
}

namespace {
Duration scale(Duration d, double factor) {
  return Duration{static_cast<std::int64_t>(std::llround(static_cast<double>(d.ns) * factor))};
}
}  // namespace

Scenario Scenario::scaled(double factor) const {
  Scenario s = *this;
  s.stop_at = scale(stop_at, factor);
  // Only the parameters the file wrote are scaled; defaults stay the model's.
  for (const auto& key : written_params) {
    const ParamInfo* info = find_param(key);
    if (info && info->kind == ParamKind::duration) {
      set_param(s.params, key, scale(duration_param(params, key), factor));
    }
  }
  for (auto& w : s.workload) w.start = scale(w.start, factor);
  for (auto& f : s.failpoints)
    if (f.action.kind == FailAction::Kind::delay) {
      f.action.delay = scale(f.action.delay, factor);
      if (f.action.delay_max) f.action.delay_max = scale(*f.action.delay_max, factor);
    }
  for (auto& a : s.actions)
    if (a.at) a.at = scale(*a.at, factor);
  return s;
}

}  // namespace qedisim
