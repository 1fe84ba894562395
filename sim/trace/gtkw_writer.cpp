#include "sim/trace/gtkw_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>

#include "sim/report/atomic_file.h"

namespace qedisim {

namespace {
std::string stem_of(const std::string& vcd_path) {
  const std::string ext = ".vcd";
  if (vcd_path.size() > ext.size() && vcd_path.compare(vcd_path.size() - ext.size(), ext.size(), ext) == 0)
    return vcd_path.substr(0, vcd_path.size() - ext.size());
  return vcd_path;
}

// One group per scope, so that same-named signals (prod, cons) stay apart.
std::string top_group(const std::string& scope) { return scope; }

// The story first: violations, TMF and session state, cleanup counters, then
// what each context does, then the firmware.
int group_rank(const std::string& scope) {
  static const char* const kOrder[] = {"checkers", "host.session", "host.qedi", "host.ctx", "hba.fw", "hba.cq"};
  int rank = 0;
  for (const char* prefix : kOrder) {
    if (scope.rfind(prefix, 0) == 0) return rank;
    ++rank;
  }
  return rank;
}
}  // namespace

std::string gtkw_signal_name(const Tracer::Signal& s) {
  std::string base = s.scope.empty() ? s.name : s.scope + "." + s.name;
  if (s.width > 1) return fmt::format("{}[{}:0]", base, s.width - 1);
  return base;
}

std::pair<std::int64_t, std::int64_t> race_window(const GtkwView& view) {
  const std::int64_t v = view.violation_ns.value_or(view.end_ns);
  const std::int64_t start = std::min(view.race_start_ns.value_or(0), v);
  const std::int64_t span = std::max<std::int64_t>(v - start, 1000);
  return {start, v + span / 8 + 1000};
}

std::string write_gtkw(const Tracer& tracer, const std::string& vcd_path, const GtkwView& view) {
  const std::string stem = stem_of(vcd_path);
  std::string gtkw_path = stem + ".gtkw";

  // Translate filters: "value name" lines, values as the decimal display shows them.
  std::map<std::string, std::string> filter_paths;
  for (const auto& t : tracer.enum_types()) {
    std::string text;
    for (std::size_t i = 0; i < t.values.size(); ++i) text += fmt::format("{} {}\n", i, t.values[i]);
    const std::string path = fmt::format("{}.{}.txt", stem, t.name);
    write_file_atomically(path, text);
    filter_paths[t.name] = std::filesystem::path(path).filename().string();
  }

  // GTKWave 3.3 opens at time 0 whatever [timestart] says, so the view runs
  // from 0 to just past the first violation (the marker), or over the whole run.
  const std::int64_t start = 0;
  std::int64_t end = std::max<std::int64_t>(view.end_ns, 1);
  if (view.violation_ns) end = std::min<std::int64_t>(end, *view.violation_ns + *view.violation_ns / 20 + 1000);

  std::string out;
  // Every path is relative to the .gtkw (all files sit beside it), so the
  // directory can be moved or copied: GTKWave 3.3 resolves [dumpfile] and the
  // translate filters against the save file's own directory when [savefile]
  // names it, whatever the working directory.
  const std::string vcd_name = std::filesystem::path(vcd_path).filename().string();
  const std::string gtkw_name = std::filesystem::path(gtkw_path).filename().string();
  out += "[*] qedisim generated save file: gtkwave " + vcd_name + " " + gtkw_name + "\n";
  out += "[dumpfile] \"" + vcd_name + "\"\n";
  out += "[savefile] \"" + gtkw_name + "\"\n";
  out += fmt::format("[timestart] {}\n", start);
  out += "[size] 1400 1000\n[pos] -1 -1\n";
  // Zoom: GTKWave's *<z> shows about 2^-z / 268 ns per pixel (measured with
  // GTKWave 3.3.118 at 1400x1000); the wave pane is ~800 pixels wide.
  const double ns_per_px = static_cast<double>(end - start) / 800.0;
  const int zoom = -static_cast<int>(std::lround(std::log2(std::max(ns_per_px, 1.0) * 268.0)));
  out += fmt::format("*{}.000000 {} {}\n", zoom, view.violation_ns.value_or(-1),
                     "-1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1");
  out += "[sst_width] 260\n[signals_width] 440\n[sst_expanded] 1\n[sst_vpaned_height] 200\n";

  // Signals grouped by top-level scope, in the order they were declared.
  std::vector<std::string> groups;
  for (const auto& s : tracer.signals()) {
    const std::string g = top_group(s.scope);
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  std::stable_sort(groups.begin(), groups.end(),
                   [](const std::string& a, const std::string& b) { return group_rank(a) < group_rank(b); });
  // Of the checkers' signals only the ids that fired are shown (all stay in the VCD).
  std::vector<bool> fired(tracer.signals().size(), false);
  for (const auto& c : tracer.changes())
    if (c.value != 0) fired[c.id] = true;
  for (const auto& g : groups) {
    out += "@800200\n-" + g + "\n";
    for (std::size_t i = 0; i < tracer.signals().size(); ++i) {
      const auto& s = tracer.signals()[i];
      if (top_group(s.scope) != g) continue;
      if (g == "checkers" && !fired[i]) continue;
      if (!s.enum_type.empty()) {
        out += "@2024\n";  // decimal, with a translate filter
        out += "^1 " + filter_paths.at(s.enum_type) + "\n";
      } else if (s.width <= 1) {
        out += "@28\n";  // strings and single bits
      } else {
        out += "@24\n";
      }
      out += gtkw_signal_name(s) + "\n";
    }
    out += "@1000200\n-" + g + "\n";
  }
  write_file_atomically(gtkw_path, out);
  // GTKWave 3.3 ignores [timestart]; its Tcl interface zooms onto the race:
  // gtkwave -S <stem>.zoom.tcl <vcd> <gtkw>.
  if (view.violation_ns) {
    const auto [from, to] = race_window(view);
    write_file_atomically(stem + ".zoom.tcl", fmt::format("# qedisim: the window of the first violation\n"
                                                          "gtkwave::setZoomRangeTimes {} {}\n"
                                                          "gtkwave::setMarker {}\n",
                                                          from, to, *view.violation_ns));
  }
  return gtkw_path;
}

}  // namespace qedisim
