#include "sim/checkers/violation.h"

#include <fmt/format.h>

#include "common/duration.h"

namespace qedisim {

std::string format_violation(const Violation& v) {
  std::string line = fmt::format("{} t={} ctx={} obj={} fn={}: {}", to_string(v.id), format_seconds(v.time_ns),
                                 v.context, v.object, v.function, v.message);
  if (v.count > 1) line += fmt::format(" (x{})", v.count);
  return line;
}

}  // namespace qedisim
