// A GTKWave save file for a run's VCD: signals grouped by scope, enum traces
// shown by name through translate-filter files written beside it, and the
// view zoomed to the window around the first violation (or the whole run).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "sim/trace/tracer.h"

namespace qedisim {

struct GtkwView {
  std::int64_t end_ns = 0;                   // end of the run
  std::optional<std::int64_t> violation_ns;  // first violation: marker and zoom window
  // Where the race starts (the earliest event the first violation names, or
  // the last fault injected before it): the zoom script's window begins here.
  std::optional<std::int64_t> race_start_ns;
};

// The window [start, end] around the race: from `race_start_ns` to a little
// past the violation.
std::pair<std::int64_t, std::int64_t> race_window(const GtkwView& view);

// Writes `<vcd without .vcd>.gtkw` and one `<vcd without .vcd>.<enum>.txt`
// per enum type; returns the .gtkw path. Throws OutputError on I/O failure.
std::string write_gtkw(const Tracer& tracer, const std::string& vcd_path, const GtkwView& view);

// The VCD reference name GTKWave shows for a signal: "scope.name" with the
// scope's dots kept, e.g. "host.session0.tmf_state".
std::string gtkw_signal_name(const Tracer::Signal& s);

}  // namespace qedisim
