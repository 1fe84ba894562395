#include "sim/trace/vcd_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <vector>

#include "sim/report/atomic_file.h"

namespace qedisim {

namespace {

// Printable VCD identifier codes: '!' .. '~' in base 94.
std::string vcd_code(std::uint32_t index) {
  std::string code;
  do {
    code.push_back(static_cast<char>('!' + index % 94));
    index /= 94;
  } while (index != 0);
  return code;
}

// The low `width` bits of v in binary, without leading zeros ("0" for none).
void append_binary(std::string& out, std::uint64_t v, unsigned width) {
  if (width < 64) v &= (std::uint64_t{1} << width) - 1;
  char buf[64];
  std::size_t n = 0;
  do {
    buf[n++] = (v & 1) ? '1' : '0';
    v >>= 1;
  } while (v != 0);
  while (n > 0) out += buf[--n];
}

std::string escape_string(const std::string& s) {
  std::string out;
  for (char c : s) out.push_back(c == ' ' ? '_' : c);
  return out.empty() ? "-" : out;
}

std::vector<std::string> split_scope(const std::string& scope) {
  std::vector<std::string> parts;
  std::size_t start = 0;
  while (start <= scope.size()) {
    const auto dot = scope.find('.', start);
    parts.push_back(scope.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) break;
    start = dot + 1;
  }
  return parts;
}

}  // namespace

void write_vcd(const Tracer& tracer, const std::string& path, const std::string& scenario_name) {
  std::string out;
  out += "$comment qedisim waveform of scenario " + scenario_name + " $end\n";
  out += "$timescale 1ns $end\n";

  // Scopes as a tree, signals in declaration order inside each scope.
  const auto& signals = tracer.signals();
  std::vector<std::uint32_t> order(signals.size());
  for (std::uint32_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(),
                   [&](std::uint32_t a, std::uint32_t b) { return signals[a].scope < signals[b].scope; });
  std::vector<std::string> open;
  for (std::uint32_t i : order) {
    const auto parts = split_scope(signals[i].scope);
    std::size_t common = 0;
    while (common < open.size() && common < parts.size() && open[common] == parts[common]) ++common;
    while (open.size() > common) {
      out += "$upscope $end\n";
      open.pop_back();
    }
    for (std::size_t p = common; p < parts.size(); ++p) {
      out += "$scope module " + parts[p] + " $end\n";
      open.push_back(parts[p]);
    }
    const auto& s = signals[i];
    if (s.width == 0) {
      out += fmt::format("$var string 1 {} {} $end\n", vcd_code(i), s.name);
    } else {
      out += fmt::format("$var wire {} {} {} $end\n", s.width, vcd_code(i), s.name);
    }
  }
  while (!open.empty()) {
    out += "$upscope $end\n";
    open.pop_back();
  }
  out += "$enddefinitions $end\n";

  // Changes arrive in time order except the checkers' pulses, added at the
  // end (their signals' initial values at 0 too, in a clean run). Only that
  // tail is sorted, then merged while writing (on equal times the in-order
  // part first): the order of a stable sort of all, without copying them.
  const auto by_time = [](const Tracer::Change& a, const Tracer::Change& b) { return a.time_ns < b.time_ns; };
  const std::vector<Tracer::Change>& all = tracer.changes();
  const auto in_order_end = std::is_sorted_until(all.begin(), all.end(), by_time);
  std::vector<Tracer::Change> tail(in_order_end, all.end());
  std::stable_sort(tail.begin(), tail.end(), by_time);
  // Codes and escaped texts once, appended without temporaries: a long run
  // has millions of changes.
  std::vector<std::string> codes(signals.size());
  for (std::uint32_t i = 0; i < signals.size(); ++i) codes[i] = vcd_code(i);
  std::vector<std::string> texts;
  texts.reserve(tracer.texts().size());
  for (const auto& t : tracer.texts()) texts.push_back(escape_string(t));

  // Streamed to the staging file a megabyte at a time: the text of a long
  // run is never whole in memory.
  StagedFile file(path);
  std::int64_t current = -1;
  auto i = all.begin();
  auto j = tail.cbegin();
  while (i != in_order_end || j != tail.cend()) {
    const bool from_tail = j != tail.cend() && (i == in_order_end || j->time_ns < i->time_ns);
    const Tracer::Change& c = from_tail ? *j++ : *i++;
    if (c.time_ns != current) {
      fmt::format_to(std::back_inserter(out), "#{}\n", c.time_ns);
      current = c.time_ns;
    }
    const auto& s = signals[c.id];
    if (s.width == 0) {
      out += 's';
      out += texts[c.text];
      out += ' ';
    } else if (s.width == 1) {
      out += (c.value & 1) ? '1' : '0';
    } else {
      out += 'b';
      append_binary(out, c.value, s.width);
      out += ' ';
    }
    out += codes[c.id];
    out += '\n';
    if (out.size() >= (1u << 20)) {
      file.write(out);
      out.clear();
    }
  }
  file.write(out);
  file.commit();
}

}  // namespace qedisim
