// Durations and sizes as the scenario format writes them.
// Pure C++: no SystemC here, so the parser and its tests compile fast.
#pragma once

#include <cstdint>
#include <string>

namespace qedisim {

// Simulated time span with nanosecond resolution (the model's time resolution).
struct Duration {
  std::int64_t ns = 0;

  static constexpr Duration from_ns(std::int64_t v) { return Duration{v}; }
  static constexpr Duration from_us(std::int64_t v) { return Duration{v * 1000}; }
  static constexpr Duration from_ms(std::int64_t v) { return Duration{v * 1000 * 1000}; }
  static constexpr Duration from_s(std::int64_t v) { return Duration{v * 1000 * 1000 * 1000}; }

  friend constexpr bool operator==(Duration a, Duration b) { return a.ns == b.ns; }
  friend constexpr bool operator!=(Duration a, Duration b) { return a.ns != b.ns; }
  friend constexpr bool operator<(Duration a, Duration b) { return a.ns < b.ns; }
};

// Human form with the largest unit that keeps it exact: "1.5ms", "30s", "0s".
std::string format_duration(Duration d);

// Seconds with millisecond precision, as violation lines print times: "31.060s".
std::string format_seconds(std::int64_t ns);

}  // namespace qedisim
