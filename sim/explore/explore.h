// `qedisim explore`: many runs of one scenario, each with its own seed, in
// forked children, J at a time. The seed of run i drives sched.jitter and
// schema v2's random delays and drops; runs that report an invariant beyond
// expect.fixed are written as standalone reproducers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "common/duration.h"
#include "sim/explore/campaign.h"
#include "sim/explore/fork_pool.h"
#include "sim/testbench.h"

namespace qedisim {

// A bad --shard/--time-budget/--jitter value: bad input (exit 2).
class OptionError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Explore's jitter when neither the file nor --jitter sets sched.jitter.
inline constexpr Duration kDefaultExploreJitter = Duration::from_us(50);

struct ExploreOptions {
  std::string file;
  std::uint64_t runs = 100;
  int jobs = 1;
  std::optional<std::uint64_t> seed;          // base seed; default the file's
  std::string shard = "0/1";                  // "i/n": runs with index % n == i
  std::string time_budget;                    // "90s", "10m", "2h"; empty = none
  std::string out_dir;                        // default explore-out/<scenario>
  std::string jitter;                         // duration; default the file's sched.jitter or 50us
  std::string stall;                          // sched.stall of every run (windows anywhere); empty = the file's
  std::optional<std::uint64_t> stall_points;  // sched.stall_points (PCT-style); default the file's
  bool no_holds = false;  // drop the file's qedi.* and libiscsi.* failpoints (the named host windows)
  std::vector<std::string> revert;
  std::string at;  // --at base|pNN: the series up to that patch (empty: the file's fixes)
  std::string json_path;
  std::uint64_t keep = 5;  // reproducers per invariant and function folder; 0 = all
  bool quiet = false;      // no progress display
  bool log = false;        // a --log beside each reproducer written (<reproducer>.log)
};

// Returns the exit code: 0 no run beyond expect.fixed, 1 some run, 3 a run
// failed internally, 128+sig when interrupted. Throws ScenarioError,
// OutputError, OptionError (bad input).
int run_explore(const ExploreOptions& options);

// "i/n" -> (i, n); throws OptionError.
std::pair<std::uint64_t, std::uint64_t> parse_shard(const std::string& text);
// "90", "90s", "1.5m", "2h" -> seconds; throws OptionError.
double parse_time_budget(const std::string& text);
// "50us" -> Duration (the scenario syntax); throws OptionError.
Duration parse_duration_option(const std::string& text, const std::string& what);

// The human summary of a campaign (explore and merge print the same).
void print_campaign_summary(const Campaign& c, const std::string& reproducer_note, bool merged);
// 0 clean, 1 some run beyond expect.fixed, 3 a run failed internally.
int campaign_exit_code(const Campaign& c);

// ---- shared with swarm ----------------------------------------------------

// Runs done/total, violating runs, runs/s, ETA on stderr: one line redrawn
// with \r on a terminal, a plain "<label>: ..." line per tenth of the
// campaign (or per 30 s) otherwise.
class Progress {
 public:
  Progress(std::uint64_t total, bool enabled, const char* label);
  void update(std::uint64_t done, std::uint64_t failing, bool final);

 private:
  std::uint64_t total_;
  bool enabled_;
  bool tty_;
  const char* label_;
  std::chrono::steady_clock::time_point t0_;
  double last_draw_ = -1;
  std::uint64_t last_tenth_ = 0;
  std::uint64_t last_done_ = ~0ull;
};

double seconds_since(std::chrono::steady_clock::time_point t0);
// A folder name from an invariant id or a kernel function name.
std::string path_part(const std::string& s);
// The parent's reading of what a campaign child sent back for its run
// (payload.h; a failed child or an unreadable answer is the run's internal
// error).
RunSummary summary_from_child(std::size_t run, std::uint64_t seed, ChildOutcome&& o, bool* interrupted);

}  // namespace qedisim
