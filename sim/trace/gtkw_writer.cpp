#include "sim/trace/gtkw_writer.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include <fmt/format.h>

#include "sim/report/atomic_file.h"

namespace qedisim {

namespace {
std::string stem_of(const std::string& vcd_path) {
  const std::string ext = ".vcd";
  if (vcd_path.size() > ext.size() && vcd_path.compare(vcd_path.size() - ext.size(), ext.size(), ext) == 0)
    return vcd_path.substr(0, vcd_path.size() - ext.size());
  return vcd_path;
}

std::string top_group(const std::string& scope) { return scope.substr(0, scope.find('.')); }
}  // namespace

std::string gtkw_signal_name(const Tracer::Signal& s) {
  const std::string base = s.scope.empty() ? s.name : s.scope + "." + s.name;
  if (s.width > 1) return fmt::format("{}[{}:0]", base, s.width - 1);
  return base;
}

std::string write_gtkw(const Tracer& tracer, const std::string& vcd_path, const GtkwView& view) {
  const std::string stem = stem_of(vcd_path);
  const std::string gtkw_path = stem + ".gtkw";

  // Translate filters: "value name" lines, values as the decimal display shows them.
  std::map<std::string, std::string> filter_paths;
  for (const auto& t : tracer.enum_types()) {
    std::string text;
    for (std::size_t i = 0; i < t.values.size(); ++i) text += fmt::format("{} {}\n", i, t.values[i]);
    const std::string path = fmt::format("{}.{}.txt", stem, t.name);
    write_file_atomically(path, text);
    filter_paths[t.name] = std::filesystem::absolute(path).string();
  }

  std::int64_t start = 0;
  std::int64_t end = std::max<std::int64_t>(view.end_ns, 1);
  if (view.violation_ns) {
    // A window that shows what led up to the violation and a little after it.
    const std::int64_t v = *view.violation_ns;
    const std::int64_t before = std::max<std::int64_t>(v / 4, 1000);
    start = std::max<std::int64_t>(0, v - before);
    end = std::min<std::int64_t>(std::max<std::int64_t>(view.end_ns, v + 1), v + before / 4 + 1000);
  }

  std::string out;
  out += "[*] qedisim generated save file: gtkwave " + vcd_path + " " + gtkw_path + "\n";
  out += "[dumpfile] \"" + std::filesystem::absolute(vcd_path).string() + "\"\n";
  out += fmt::format("[timestart] {}\n", start);
  out += "[size] 1400 700\n[pos] -1 -1\n";
  // Zoom: GTKWave's *<zoom> is log2 of time units per pixel, negative = zoomed in.
  const double span = static_cast<double>(end - start);
  int zoom = 0;
  while (zoom > -60 && span / 1000.0 < std::ldexp(1.0, zoom)) --zoom;
  while (zoom < 60 && span / 1000.0 > std::ldexp(1.0, zoom)) ++zoom;
  out += fmt::format("*{}.000000 {} {}\n", -zoom, view.violation_ns.value_or(-1), "-1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1 -1");
  out += "[sst_width] 260\n[signals_width] 300\n[sst_expanded] 1\n[sst_vpaned_height] 200\n";

  // Signals grouped by top-level scope, in the order they were declared.
  std::vector<std::string> groups;
  for (const auto& s : tracer.signals()) {
    const std::string g = top_group(s.scope);
    if (std::find(groups.begin(), groups.end(), g) == groups.end()) groups.push_back(g);
  }
  for (const auto& g : groups) {
    out += "@800200\n-" + g + "\n";
    for (const auto& s : tracer.signals()) {
      if (top_group(s.scope) != g) continue;
      if (!s.enum_type.empty()) {
        out += "@2024\n";  // decimal, with a translate filter
        out += "^1 " + filter_paths.at(s.enum_type) + "\n";
      } else if (s.width == 0) {
        out += "@28\n";
      } else if (s.width == 1) {
        out += "@28\n";
      } else {
        out += "@24\n";
      }
      out += gtkw_signal_name(s) + "\n";
    }
    out += "@1000200\n-" + g + "\n";
  }
  write_file_atomically(gtkw_path, out);
  return gtkw_path;
}

}  // namespace qedisim
