#include "sim/explore/campaign.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "sim/failpoints/catalog.h"

namespace qedisim {

void FirstSeen::add(std::uint64_t run, std::uint64_t seed) {
  if (runs == 0 || run < first_run) {
    first_run = run;
    first_seed = seed;
  }
  ++runs;
}

void FirstSeen::merge(const FirstSeen& o) {
  if (o.runs == 0) return;
  if (runs == 0 || o.first_run < first_run) {
    first_run = o.first_run;
    first_seed = o.first_seed;
  }
  runs += o.runs;
}

namespace {
// Coverage maps (failpoints, TMF transitions): name -> runs and occurrences.
using Coverage = std::map<std::string, PointStats>;

// One run's occurrence counts: each name reached counts one run.
void count_run(Coverage& into, const std::map<std::string, std::uint64_t>& run) {
  for (const auto& [name, n] : run) {
    auto& p = into[name];
    ++p.runs;
    p.occurrences += n;
  }
}

void merge_into(Coverage& into, const Coverage& from) {
  for (const auto& [name, p] : from) {
    auto& t = into[name];
    t.runs += p.runs;
    t.occurrences += p.occurrences;
  }
}

nlohmann::json coverage_json(const Coverage& m) {
  nlohmann::json o = nlohmann::json::object();
  for (const auto& [name, p] : m) o[name] = {{"runs", p.runs}, {"occurrences", p.occurrences}};
  return o;
}

Coverage coverage_from(const nlohmann::json& o) {
  Coverage m;
  for (const auto& [name, p] : o.items())
    m[name] = PointStats{p.at("runs").get<std::uint64_t>(), p.at("occurrences").get<std::uint64_t>()};
  return m;
}
}  // namespace

std::uint64_t Campaign::runs_planned() const {
  std::uint64_t n = 0;
  for (auto shard : shards)
    if (shard < runs_total) n += (runs_total - shard + shard_count - 1) / shard_count;
  return n;
}

std::optional<Failure> Campaign::add(const RunSummary& r) {
  ++runs_done;
  if (r.error) {
    if (errors.runs == 0 || r.run < errors.first_run) first_error = *r.error;
    errors.add(r.run, r.seed);
    return std::nullopt;
  }
  count_run(points, r.points_reached);
  count_run(tmf_transitions, r.tmf_transitions);
  count_run(session_transitions, r.session_transitions);
  if (!r.eh_max_level.empty()) count_run(eh_levels, {{r.eh_max_level, 1}});
  for (const auto& k : r.fault_kinds) count_run(fault_kinds, {{k, 1}});
  // Each id and (id, function) counts once per run.
  std::set<std::string> run_ids;
  std::set<std::pair<std::string, std::string>> run_functions;
  const Violation* first_unexpected = nullptr;
  for (const auto& v : r.violations) {
    const std::string id(to_string(v.id));
    const bool is_expected = std::find(expected.begin(), expected.end(), id) != expected.end();
    if (run_ids.insert(id).second) {
      auto& stats = ids[id];
      stats.expected = is_expected;
      stats.seen.add(r.run, r.seed);
    }
    if (run_functions.emplace(id, v.function).second) ids[id].functions[v.function].add(r.run, r.seed);
    if (!is_expected && (!first_unexpected || v.time_ns < first_unexpected->time_ns)) first_unexpected = &v;
  }
  if (!first_unexpected) return std::nullopt;
  ++failing_runs;
  Failure f{r.run, r.seed, std::string(to_string(first_unexpected->id)), first_unexpected->function,
            std::vector<std::string>(run_ids.begin(), run_ids.end())};
  if (first_failures.size() < kKeptFailures) {
    first_failures.push_back(f);
    std::sort(first_failures.begin(), first_failures.end(),
              [](const Failure& a, const Failure& b) { return a.run < b.run; });
  }
  return f;
}

namespace {

nlohmann::json seen_json(const FirstSeen& s) {
  return {{"runs", s.runs}, {"first_run", s.first_run}, {"first_seed", s.first_seed}};
}

FirstSeen seen_from(const nlohmann::json& j) {
  FirstSeen s;
  s.runs = j.at("runs").get<std::uint64_t>();
  s.first_run = j.at("first_run").get<std::uint64_t>();
  s.first_seed = j.at("first_seed").get<std::uint64_t>();
  return s;
}

}  // namespace

nlohmann::json Campaign::to_json() const {
  nlohmann::json j;
  j["qedisim_campaign"] = 1;
  j["scenario"] = scenario;
  j["file"] = file;
  j["base_seed"] = base_seed;
  j["seeds"] = "run i uses splitmix64 output i+1 from base_seed";
  j["runs_total"] = runs_total;
  j["shard"] = {{"count", shard_count}, {"indices", shards}};
  j["jitter_ns"] = jitter_ns;
  j["fixes"] = fixes;
  j["expected"] = expected;
  j["runs_planned"] = runs_planned();
  j["runs_done"] = runs_done;
  j["complete"] = complete;
  j["failing_runs"] = failing_runs;
  nlohmann::json v = nlohmann::json::object();
  for (const auto& [id, s] : ids) {
    nlohmann::json e = seen_json(s.seen);
    e["expected"] = s.expected;
    e["functions"] = nlohmann::json::object();
    for (const auto& [fn, fs] : s.functions) e["functions"][fn] = seen_json(fs);
    v[id] = e;
  }
  j["violations"] = v;
  std::vector<std::string> not_reached;
  std::size_t reached = 0;
  for (const auto& info : point_catalog()) {
    if (points.count(std::string(info.name)))
      ++reached;
    else
      not_reached.emplace_back(info.name);
  }
  std::vector<std::string> tmf_not_reached;
  for (const auto& t : known_tmf_transitions())
    if (!tmf_transitions.count(t)) tmf_not_reached.push_back(t);
  j["coverage"] = {{"points", coverage_json(points)},
                   {"catalog_points", point_catalog().size()},
                   {"catalog_points_reached", reached},
                   {"not_reached", not_reached},
                   {"tmf_transitions", coverage_json(tmf_transitions)},
                   {"tmf_transitions_known", known_tmf_transitions().size()},
                   {"tmf_transitions_reached", known_tmf_transitions().size() - tmf_not_reached.size()},
                   {"tmf_transitions_not_reached", tmf_not_reached},
                   {"session_transitions", coverage_json(session_transitions)},
                   {"eh_levels", coverage_json(eh_levels)},
                   {"fault_kinds", coverage_json(fault_kinds)}};
  nlohmann::json ff = nlohmann::json::array();
  for (const auto& f : first_failures)
    ff.push_back({{"run", f.run}, {"seed", f.seed}, {"id", f.id}, {"function", f.function}, {"ids", f.ids}});
  j["first_failures"] = ff;
  j["errors"] = seen_json(errors);
  j["errors"]["first_message"] = first_error;
  j["verdict"] = errors.runs ? "error" : violated() ? "violated" : "clean";
  j["timing"] = {{"wall_s", wall_s},
                 {"runs_per_s", wall_s > 0 ? static_cast<double>(runs_done) / wall_s : 0.0},
                 {"jobs", jobs},
                 {"code_on_huge_pages", code_on_huge_pages},
                 {"processes", processes}};
  if (!restore_point.empty()) j["timing"]["restore_point"] = restore_point;
  return j;
}

Campaign Campaign::from_json(const nlohmann::json& j) {
  try {
    if (!j.is_object() || j.value("qedisim_campaign", 0) != 1)
      throw std::runtime_error("not a qedisim campaign result (no \"qedisim_campaign\": 1)");
    Campaign c;
    c.scenario = j.at("scenario").get<std::string>();
    c.file = j.at("file").get<std::string>();
    c.base_seed = j.at("base_seed").get<std::uint64_t>();
    c.runs_total = j.at("runs_total").get<std::uint64_t>();
    c.shard_count = j.at("shard").at("count").get<std::uint64_t>();
    c.shards = j.at("shard").at("indices").get<std::vector<std::uint64_t>>();
    c.jitter_ns = j.at("jitter_ns").get<std::int64_t>();
    c.fixes = j.at("fixes").get<std::vector<std::string>>();
    c.expected = j.at("expected").get<std::vector<std::string>>();
    c.runs_done = j.at("runs_done").get<std::uint64_t>();
    c.complete = j.at("complete").get<bool>();
    c.failing_runs = j.at("failing_runs").get<std::uint64_t>();
    for (const auto& [id, e] : j.at("violations").items()) {
      IdStats s;
      s.seen = seen_from(e);
      s.expected = e.at("expected").get<bool>();
      for (const auto& [fn, fs] : e.at("functions").items()) s.functions[fn] = seen_from(fs);
      c.ids[id] = s;
    }
    c.points = coverage_from(j.at("coverage").at("points"));
    c.tmf_transitions = coverage_from(j.at("coverage").at("tmf_transitions"));
    // Results written before these were kept have none.
    const auto& cov = j.at("coverage");
    if (cov.contains("session_transitions")) c.session_transitions = coverage_from(cov.at("session_transitions"));
    if (cov.contains("eh_levels")) c.eh_levels = coverage_from(cov.at("eh_levels"));
    if (cov.contains("fault_kinds")) c.fault_kinds = coverage_from(cov.at("fault_kinds"));
    for (const auto& f : j.at("first_failures"))
      c.first_failures.push_back(Failure{f.at("run").get<std::uint64_t>(), f.at("seed").get<std::uint64_t>(),
                                         f.at("id").get<std::string>(), f.at("function").get<std::string>(),
                                         f.at("ids").get<std::vector<std::string>>()});
    c.errors = seen_from(j.at("errors"));
    c.first_error = j.at("errors").at("first_message").get<std::string>();
    c.wall_s = j.at("timing").at("wall_s").get<double>();
    c.jobs = j.at("timing").at("jobs").get<int>();
    c.code_on_huge_pages = j.at("timing").value("code_on_huge_pages", std::uint64_t{0});
    c.processes = j.at("timing").value("processes", std::uint64_t{0});
    c.restore_point = j.at("timing").value("restore_point", std::string());
    return c;
  } catch (const nlohmann::json::exception& e) {
    throw std::runtime_error(fmt::format("malformed campaign result: {}", e.what()));
  }
}

Campaign merge_campaigns(const std::vector<Campaign>& parts) {
  if (parts.empty()) throw std::runtime_error("nothing to merge");
  Campaign m = parts.front();
  std::set<std::uint64_t> shards(m.shards.begin(), m.shards.end());
  for (std::size_t i = 1; i < parts.size(); ++i) {
    const Campaign& p = parts[i];
    auto differs = [&](const char* what, const auto& a, const auto& b) {
      if (!(a == b))
        throw std::runtime_error(fmt::format("result {} belongs to another campaign: its {} differs", i + 1, what));
    };
    differs("scenario", m.scenario, p.scenario);
    differs("base_seed", m.base_seed, p.base_seed);
    differs("runs_total", m.runs_total, p.runs_total);
    differs("shard count", m.shard_count, p.shard_count);
    differs("jitter", m.jitter_ns, p.jitter_ns);
    differs("fix set", m.fixes, p.fixes);
    differs("expect.fixed", m.expected, p.expected);
    for (auto s : p.shards)
      if (!shards.insert(s).second)
        throw std::runtime_error(fmt::format("shard {}/{} is in more than one result", s, m.shard_count));
    m.runs_done += p.runs_done;
    m.complete = m.complete && p.complete;
    m.failing_runs += p.failing_runs;
    for (const auto& [id, s] : p.ids) {
      auto& t = m.ids[id];
      t.seen.merge(s.seen);
      t.expected = s.expected;
      for (const auto& [fn, fs] : s.functions) t.functions[fn].merge(fs);
    }
    merge_into(m.points, p.points);
    merge_into(m.tmf_transitions, p.tmf_transitions);
    merge_into(m.session_transitions, p.session_transitions);
    merge_into(m.eh_levels, p.eh_levels);
    merge_into(m.fault_kinds, p.fault_kinds);
    m.first_failures.insert(m.first_failures.end(), p.first_failures.begin(), p.first_failures.end());
    if (p.errors.runs && (m.errors.runs == 0 || p.errors.first_run < m.errors.first_run)) m.first_error = p.first_error;
    m.errors.merge(p.errors);
    m.wall_s += p.wall_s;
    m.code_on_huge_pages = std::min(m.code_on_huge_pages, p.code_on_huge_pages);
    m.processes += p.processes;
    m.jobs += p.jobs;
  }
  std::sort(m.first_failures.begin(), m.first_failures.end(),
            [](const Failure& a, const Failure& b) { return a.run < b.run; });
  if (m.first_failures.size() > Campaign::kKeptFailures) m.first_failures.resize(Campaign::kKeptFailures);
  // Every shard of the index space: the same as one unsharded campaign.
  if (shards.size() == m.shard_count) {
    m.shard_count = 1;
    m.shards = {0};
  } else {
    m.shards.assign(shards.begin(), shards.end());
  }
  return m;
}

const std::vector<std::string>& known_tmf_transitions() {
  static const std::vector<std::string> kKnown = {
      "INITIAL->QUEUED",     // iscsi_eh_abort, iscsi_eh_device_reset, iscsi_eh_session/target_reset
      "QUEUED->SUCCESS",     // iscsi_tmf_rsp: ISCSI_TMF_RSP_COMPLETE
      "QUEUED->NOT_FOUND",   // iscsi_tmf_rsp: ISCSI_TMF_RSP_NO_TASK
      "QUEUED->FAILED",      // iscsi_tmf_rsp: any other response
      "QUEUED->TIMEDOUT",    // iscsi_tmf_timedout
      "QUEUED->INITIAL",     // the EH wait ended by a session state or age change; iscsi_conn_start
      "SUCCESS->INITIAL",    // the EH handler finished
      "NOT_FOUND->INITIAL",  // iscsi_eh_abort
      "FAILED->INITIAL",     // iscsi_eh_abort, iscsi_eh_device_reset
      "TIMEDOUT->INITIAL",   // iscsi_conn_start after the recovery
  };
  return kKnown;
}

nlohmann::json without_timing(nlohmann::json j) {
  j.erase("timing");
  return j;
}

}  // namespace qedisim
