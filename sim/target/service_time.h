// The target's service time per SCSI command: log-normal with a given
// median and 99th percentile (a backend whose latency has a tail), drawn
// from its own PRNG seeded by the run's seed, so the same seed gives the
// same times. With the 99th percentile at or below the median every command
// takes the median and nothing is drawn. Pure C++.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <random>

#include "common/duration.h"
#include "sim/explore/seeds.h"

namespace qedisim::target {

class ServiceTime {
 public:
  ServiceTime(Duration median, Duration p99, std::uint64_t seed) : median_ns_(median.ns), rng_(stream_seed(seed)) {
    if (median.ns > 0 && p99.ns > median.ns)
      sigma_ = std::log(static_cast<double>(p99.ns) / static_cast<double>(median.ns)) / kZ99;
  }

  // One command's service time in ns, capped at 100 medians.
  std::int64_t draw() {
    if (sigma_ == 0.0) return median_ns_;
    const double u1 = (static_cast<double>(rng_() >> 11) + 1.0) * 0x1.0p-53;     // (0, 1]
    const double u2 = static_cast<double>(rng_() >> 11) * 0x1.0p-53;             // [0, 1)
    const double z = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * kPi * u2);  // Box-Muller
    const double median = static_cast<double>(median_ns_);
    return static_cast<std::int64_t>(std::llround(std::min(median * std::exp(sigma_ * z), 100.0 * median)));
  }

  bool has_tail() const { return sigma_ != 0.0; }
  // Restarts the stream from `seed`, as construction with it would have.
  void reseed(std::uint64_t seed) { rng_.seed(stream_seed(seed)); }

 private:
  static constexpr double kZ99 = 2.3263478740408408;  // the standard normal's 99th percentile
  static constexpr double kPi = 3.14159265358979323846;
  // Its own stream: a splitmix64 step of the run's seed, apart from the failpoints' stream.
  static std::uint64_t stream_seed(std::uint64_t seed) {
    return splitmix64_mix(seed + 0x5e41ce7141e5ull * 0x9e3779b97f4a7c15ull);
  }

  std::int64_t median_ns_;
  double sigma_ = 0.0;
  std::mt19937_64 rng_;
};

}  // namespace qedisim::target
