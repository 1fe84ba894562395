#include "common/duration.h"

#include <fmt/format.h>

namespace qedisim {

std::string format_duration(Duration d) {
  struct Unit {
    std::int64_t ns;
    const char* name;
  };
  static constexpr Unit kUnits[] = {{1000000000, "s"}, {1000000, "ms"}, {1000, "us"}, {1, "ns"}};
  if (d.ns == 0) return "0s";
  for (const auto& u : kUnits) {
    if (d.ns % u.ns == 0) return fmt::format("{}{}", d.ns / u.ns, u.name);
    // One decimal place of the larger unit reads better than a long integer.
    if (u.ns > 1 && (d.ns * 10) % u.ns == 0 && d.ns >= u.ns)
      return fmt::format("{}.{}{}", d.ns / u.ns, (d.ns % u.ns) * 10 / u.ns, u.name);
  }
  return fmt::format("{}ns", d.ns);
}

std::string format_seconds(std::int64_t ns) {
  const std::int64_t ms = ns / 1000000;
  return fmt::format("{}.{:03d}s", ms / 1000, static_cast<int>(ms % 1000));
}

}  // namespace qedisim
