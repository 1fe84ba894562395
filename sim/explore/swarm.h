// `qedisim swarm`: many runs, each of a whole scenario drawn from its own
// seed (swarm_draw.h), in forked children J at a time, as explore runs
// them. A run that reports any invariant, or whose child fails, is shrunk
// and written as a reproducer grouped by invariant and kernel function.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace qedisim {

struct SwarmOptions {
  std::uint64_t runs = 1000;
  int jobs = 1;
  std::uint64_t seed = 1;     // base seed: run i draws from splitmix64(seed, i)
  std::string shard = "0/1";  // "i/n"
  std::string time_budget;    // stops launching runs after it
  std::vector<std::string> revert;
  std::string at;       // base|pNN: the series up to that patch
  std::string out_dir;  // default swarm-out
  std::string json_path;
  std::uint64_t keep = 3;           // reproducers per invariant and function folder; 0 = all
  std::uint64_t shrink_runs = 200;  // candidate runs per reproducer; 0 = write the draw unshrunk
  bool quiet = false;
};

// 0 no run reported an invariant, 1 some run did, 3 a run failed internally,
// 128+sig when interrupted. Throws OptionError, OutputError.
int run_swarm(const SwarmOptions& options);

}  // namespace qedisim
