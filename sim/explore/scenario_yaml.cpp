#include "sim/explore/scenario_yaml.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cstdlib>
#include <vector>

namespace qedisim {

namespace {

// Free text (about, site) always double-quoted: no YAML meaning can leak in.
std::string quoted(const std::string& s) {
  YAML::Emitter e;
  e << YAML::DoubleQuoted << s;
  return e.c_str();
}

std::string size_text(std::uint64_t bytes) {
  if (bytes % (1u << 20) == 0) return fmt::format("{}m", bytes >> 20);
  if (bytes % (1u << 10) == 0) return fmt::format("{}k", bytes >> 10);
  return fmt::format("{}", bytes);
}

// The shortest plain decimal that reads back as exactly `p` (the loader
// takes no exponents).
std::string probability_text(double p) {
  for (int digits = 1; digits <= 20; ++digits) {
    std::string t = fmt::format("{:.{}f}", p, digits);
    while (t.size() > 1 && t.back() == '0') t.pop_back();
    if (t.back() == '.') t.pop_back();
    if (std::strtod(t.c_str(), nullptr) == p) return t;
  }
  return fmt::format("{:.20f}", p);
}

std::string join(const std::vector<std::string>& items) { return fmt::format("{}", fmt::join(items, ", ")); }

std::string match_text(const Match& m) {
  std::vector<std::string> keys;
  if (m.session) keys.push_back(fmt::format("session: {}", *m.session));
  if (m.lun) keys.push_back(fmt::format("lun: {}", *m.lun));
  if (m.function) keys.push_back(fmt::format("function: {}", to_string(*m.function)));
  if (m.type) keys.push_back(fmt::format("type: {}", to_string(*m.type)));
  if (m.gfp) keys.push_back(fmt::format("gfp: {}", to_string(*m.gfp)));
  if (m.site) keys.push_back(fmt::format("site: {}", quoted(*m.site)));
  if (m.nth.every != 0) {
    keys.push_back(fmt::format("nth: {{every: {}}}", m.nth.every));
  } else if (!m.nth.list.empty()) {
    keys.push_back(fmt::format("nth: [{}]", fmt::join(m.nth.list, ", ")));
  }
  return keys.empty() ? std::string() : fmt::format("{{{}}}", join(keys));
}

std::string action_text(const FailAction& a) {
  switch (a.kind) {
    case FailAction::Kind::drop:
      if (a.drop_probability >= 1.0) return "drop";
      return fmt::format("{{drop: {{probability: {}}}}}", probability_text(a.drop_probability));
    case FailAction::Kind::fail:
      return "fail";
    case FailAction::Kind::delay:
      if (a.delay_max)
        return fmt::format("{{delay: {{min: {}, max: {}}}}}", format_duration(a.delay), format_duration(*a.delay_max));
      return fmt::format("{{delay: {}}}", format_duration(a.delay));
    case FailAction::Kind::respond:
      return fmt::format("{{respond: {}}}", to_string(a.respond));
  }
  return "drop";
}

// Only the keys the loader allows for this kind (loader.cpp action_args).
std::string args_text(const Action& a) {
  const ActionArgs& g = a.args;
  std::vector<std::string> keys;
  switch (a.kind) {
    case ActionKind::iscsid_terminate:
      keys = {fmt::format("session: {}", g.session), fmt::format("unbind_target: {}", g.unbind_target)};
      break;
    case ActionKind::iscsid_stop_conn:
      keys = {fmt::format("session: {}", g.session), fmt::format("flag: {}", to_string(g.flag))};
      break;
    case ActionKind::scsi_reset:
      keys = {fmt::format("session: {}", g.session), fmt::format("lun: {}", g.lun),
              fmt::format("level: {}", to_string(g.level))};
      break;
    case ActionKind::scsi_abort:  // the session follows from the stream
      keys = {fmt::format("stream: {}", g.stream), fmt::format("op: {}", g.op)};
      break;
    case ActionKind::hba_remove:
      break;
    default:
      keys = {fmt::format("session: {}", g.session)};
      break;
  }
  return keys.empty() ? std::string() : fmt::format("{{{}}}", join(keys));
}

std::string id_list(const std::vector<InvariantId>& ids) {
  std::vector<std::string> names;
  names.reserve(ids.size());
  for (auto id : ids) names.emplace_back(to_string(id));
  return fmt::format("[{}]", join(names));
}

bool uses_v2(const Scenario& s) {
  for (const auto& f : s.failpoints)
    if (f.action.delay_max || (f.action.kind == FailAction::Kind::drop && f.action.drop_probability < 1.0)) return true;
  for (const auto& spec : s.sessions)
    if (spec.cmds_max) return true;
  return false;
}

}  // namespace

std::string fixes_to_yaml(const FixSet& fixes) {
  std::vector<std::string> on, off;
  for (int i = 1; i <= kPatchCount; ++i) {
    const auto p = static_cast<Patch>(i);
    (fixes.fixed(p) ? on : off).push_back(patch_name(p));
  }
  if (off.empty()) return "all";
  if (on.empty()) return "none";
  if (off.size() <= on.size()) return fmt::format("{{except: [{}]}}", join(off));
  return fmt::format("{{only: [{}]}}", join(on));
}

std::string scenario_to_yaml(const Scenario& s) {
  std::string out;
  auto line = [&out](const std::string& l) {
    out += l;
    out += '\n';
  };
  line(fmt::format("qedisim: {}", uses_v2(s) ? std::max(s.schema, 2) : s.schema));
  line(fmt::format("name: {}", s.name));
  if (!s.about.empty()) line(fmt::format("about: {}", quoted(s.about)));
  if (s.patch) line(fmt::format("patch: {}", patch_name(*s.patch)));
  line(fmt::format("seed: {}", s.seed));
  line(fmt::format("stop_at: {}", format_duration(s.stop_at)));
  line(fmt::format("fixes: {}", fixes_to_yaml(s.fixes)));
  if (!s.written_params.empty()) {
    line("params:");
    for (const auto& key : s.written_params) line(fmt::format("  {}: {}", key, param_value_string(s.params, key)));
  }
  if (!(s.sessions.size() == 1 && s.sessions[0].luns == 1 && !s.sessions[0].cmds_max)) {
    line("sessions:");
    for (const auto& spec : s.sessions)
      line(spec.cmds_max ? fmt::format("  - {{luns: {}, cmds_max: {}}}", spec.luns, *spec.cmds_max)
                         : fmt::format("  - {{luns: {}}}", spec.luns));
  }
  if (!s.workload.empty()) {
    line("workload:");
    for (const auto& w : s.workload)
      line(fmt::format("  - {{session: {}, lun: {}, ops: {}, depth: {}, start: {}, op: {}, size: {}}}", w.session,
                       w.lun, w.ops, w.depth, format_duration(w.start), to_string(w.op), size_text(w.size)));
  }
  if (!s.failpoints.empty()) {
    line("failpoints:");
    for (const auto& f : s.failpoints) {
      line(fmt::format("  - point: {}", f.point));
      const std::string m = match_text(f.match);
      if (!m.empty()) line(fmt::format("    match: {}", m));
      line(fmt::format("    action: {}", action_text(f.action)));
    }
  }
  if (!s.actions.empty()) {
    line("actions:");
    for (const auto& a : s.actions) {
      if (a.at) line(fmt::format("  - at: {}", format_duration(*a.at)));
      if (a.on) line(fmt::format("  - on: {{point: {}, nth: {}}}", a.on->point, a.on->nth));
      line(fmt::format("    do: {}", to_string(a.kind)));
      const std::string args = args_text(a);
      if (!args.empty()) line(fmt::format("    args: {}", args));
    }
  }
  line("expect:");
  line(fmt::format("  fixed: {}", id_list(s.expect.fixed)));
  if (s.expect.reverted) line(fmt::format("  reverted: {}", id_list(*s.expect.reverted)));
  const FinalCounters& f = s.expect.final;
  if (!f.empty()) {
    std::vector<std::string> keys;
    if (f.tids_in_use) keys.push_back(fmt::format("tids_in_use: {}", *f.tids_in_use));
    if (f.cmds_completed) keys.push_back(fmt::format("cmds_completed: {}", *f.cmds_completed));
    if (f.cmds_failed) keys.push_back(fmt::format("cmds_failed: {}", *f.cmds_failed));
    if (f.eh_max_level) keys.push_back(fmt::format("eh_max_level: {}", to_string(*f.eh_max_level)));
    line(fmt::format("  final: {{{}}}", join(keys)));
  }
  return out;
}

}  // namespace qedisim
