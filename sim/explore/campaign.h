// The result of an exploration campaign (or of one shard of it) as JSON:
// what `explore --json` writes and `merge` combines. Everything except the
// "timing" object depends only on the scenario, the options and the run
// indices covered, so the same campaign gives the same JSON, whatever the
// number of workers, and merging every shard gives the unsharded result.
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "sim/checkers/violation.h"

namespace qedisim {

// One run, as the campaign keeps it.
struct RunSummary {
  std::uint64_t run = 0;   // index in the campaign
  std::uint64_t seed = 0;  // derive_seed(base_seed, run)
  std::vector<Violation> violations;
  std::map<std::string, std::uint64_t> points_reached;
  std::map<std::string, std::uint64_t> tmf_transitions;      // "QUEUED->TIMEDOUT" -> times
  std::map<std::string, std::uint64_t> session_transitions;  // libiscsi session->state: "LOGGED_IN->FAILED" -> times
  std::string eh_max_level;                                  // deepest scsi-ml EH level reached ("none", "abort", ...)
  std::vector<std::string> fault_kinds;                      // swarm: the fault kinds the run's draw switched on
  std::optional<std::string> error;                          // the child failed: an internal error, no verdict
};

struct FirstSeen {
  std::uint64_t runs = 0;  // runs that reported it
  std::uint64_t first_run = 0;
  std::uint64_t first_seed = 0;
  void add(std::uint64_t run, std::uint64_t seed);
  void merge(const FirstSeen& o);
};

struct IdStats {
  FirstSeen seen;
  bool expected = false;                       // listed in expect.fixed
  std::map<std::string, FirstSeen> functions;  // kernel function of the violation
};

struct PointStats {
  std::uint64_t runs = 0;         // runs that reached it
  std::uint64_t occurrences = 0;  // over all runs
};

// A run that reported an invariant beyond expect.fixed.
struct Failure {
  std::uint64_t run = 0;
  std::uint64_t seed = 0;
  std::string id;                // its first unexpected violation
  std::string function;          // where that one happened
  std::vector<std::string> ids;  // every id it reported
};

struct Campaign {
  static constexpr std::size_t kKeptFailures = 20;  // first failures listed

  // What was asked for (must agree between shards that are merged).
  std::string scenario;  // "swarm" for a swarm campaign
  std::string file;      // empty for a swarm campaign
  std::uint64_t base_seed = 0;
  std::uint64_t runs_total = 0;  // the campaign's run index space
  std::uint64_t shard_count = 1;
  std::vector<std::uint64_t> shards{0};  // shard indices covered
  std::int64_t jitter_ns = 0;
  std::vector<std::string> fixes;     // effective fix set
  std::vector<std::string> expected;  // expect.fixed

  // What came out.
  std::uint64_t runs_done = 0;
  bool complete = true;            // false when the time budget or a signal stopped it
  std::uint64_t failing_runs = 0;  // runs with an id beyond expect.fixed
  std::map<std::string, IdStats> ids;
  std::map<std::string, PointStats> points;
  std::map<std::string, PointStats> tmf_transitions;      // libiscsi tmf_state changes
  std::map<std::string, PointStats> session_transitions;  // libiscsi session->state changes
  std::map<std::string, PointStats> eh_levels;            // runs per deepest EH level
  std::map<std::string, PointStats> fault_kinds;          // swarm: runs per fault kind switched on
  std::vector<Failure> first_failures;                    // ordered by run, at most kKeptFailures
  FirstSeen errors;
  std::string first_error;

  // Wall clock: excluded from comparisons.
  double wall_s = 0;
  int jobs = 1;
  // Bytes of the forking parent's code on huge pages (huge_text.h); in a
  // merge, the least of the parts.
  std::uint64_t code_on_huge_pages = 0;
  // Processes forked for the runs: one per run, or (workers reused from a
  // restore point, restore_point.h) about one per job; in a merge, the sum.
  std::uint64_t processes = 0;
  // Explore: "on" when its workers run from a restore point, else "off: "
  // and why (restore_point_probe()); empty for swarm; a merge keeps the
  // first part's.
  std::string restore_point;

  // Folds one run in; returns its failure record when it failed.
  std::optional<Failure> add(const RunSummary& r);
  bool violated() const { return failing_runs > 0; }
  std::uint64_t runs_planned() const;  // runs of the shards covered

  nlohmann::json to_json() const;
  static Campaign from_json(const nlohmann::json& j);  // throws std::runtime_error
};

// The tmf_state transitions libiscsi.c makes (iscsi_eh_abort,
// iscsi_eh_device_reset / target reset, iscsi_tmf_rsp, iscsi_tmf_timedout,
// iscsi_conn_start): the denominator of the coverage figure.
const std::vector<std::string>& known_tmf_transitions();

// Throws std::runtime_error naming what differs when the shards do not belong
// to one campaign or overlap.
Campaign merge_campaigns(const std::vector<Campaign>& parts);

// The JSON without wall-clock fields, for comparisons.
nlohmann::json without_timing(nlohmann::json j);

}  // namespace qedisim
