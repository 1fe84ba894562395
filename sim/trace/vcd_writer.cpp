#include "sim/trace/vcd_writer.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <map>
#include <string_view>
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

// The low `width` bits of v in binary, without leading zeros ("0" for
// none), at `at` (room for 64); returns the end.
char* put_binary(char* at, std::uint64_t v, unsigned width) {
  if (width < 64) v &= (std::uint64_t{1} << width) - 1;
  if (v == 0) {
    *at = '0';
    return at + 1;
  }
  // Four digits at a time from a table, the leading group without its zeros.
  static constexpr char kNibbles[16][4] = {
      {'0', '0', '0', '0'}, {'0', '0', '0', '1'}, {'0', '0', '1', '0'}, {'0', '0', '1', '1'},
      {'0', '1', '0', '0'}, {'0', '1', '0', '1'}, {'0', '1', '1', '0'}, {'0', '1', '1', '1'},
      {'1', '0', '0', '0'}, {'1', '0', '0', '1'}, {'1', '0', '1', '0'}, {'1', '0', '1', '1'},
      {'1', '1', '0', '0'}, {'1', '1', '0', '1'}, {'1', '1', '1', '0'}, {'1', '1', '1', '1'}};
  const int digits = 64 - __builtin_clzll(v);
  int shift = (digits - 1) / 4 * 4;  // the leading group's lowest bit
  const int lead = digits - shift;   // 1..4 digits in it
  std::memcpy(at, kNibbles[(v >> shift) & 15] + 4 - lead, static_cast<std::size_t>(lead));
  at += lead;
  for (shift -= 4; shift >= 0; shift -= 4) {
    std::memcpy(at, kNibbles[(v >> shift) & 15], 4);
    at += 4;
  }
  return at;
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
  // run is never whole in memory. A change is written into the buffer by
  // hand (a run of a million commands has ten million of them).
  StagedFile file(path);
  file.write(out);
  constexpr std::size_t kChunk = 1u << 20;
  std::string buf(kChunk + 512, '\0');
  std::size_t n = 0;
  const auto flush = [&] {
    file.write(std::string_view(buf.data(), n));
    n = 0;
  };
  const auto put = [&](const std::string& text) {
    if (text.size() <= 2) {  // a signal's code, mostly
      for (const char ch : text) buf[n++] = ch;
      return;
    }
    std::memcpy(&buf[n], text.data(), text.size());
    n += text.size();
  };
  std::int64_t current = -1;
  auto i = all.begin();
  auto j = tail.cbegin();
  while (i != in_order_end || j != tail.cend()) {
    const bool from_tail = j != tail.cend() && (i == in_order_end || j->time_ns < i->time_ns);
    const Tracer::Change& c = from_tail ? *j++ : *i++;
    const auto& s = signals[c.id];
    const std::string& code = codes[c.id];
    // The longest this change can be: "#<time>\n", then "s<text> ",
    // "b<64 digits> " or one digit, then the code and "\n".
    const std::size_t longest =
        22 + 2 + std::max<std::size_t>(s.width == 0 ? texts[c.text].size() : 0, 64) + code.size() + 1;
    if (n + longest > buf.size()) {
      flush();
      if (longest > buf.size()) buf.resize(longest);
    }
    if (c.time_ns != current) {
      buf[n++] = '#';
      n = static_cast<std::size_t>(std::to_chars(&buf[n], &buf[n] + 21, c.time_ns).ptr - buf.data());
      buf[n++] = '\n';
      current = c.time_ns;
    }
    if (s.width == 0) {
      buf[n++] = 's';
      put(texts[c.text]);
      buf[n++] = ' ';
    } else if (s.width == 1) {
      buf[n++] = (c.value & 1) ? '1' : '0';
    } else {
      buf[n++] = 'b';
      n = static_cast<std::size_t>(put_binary(&buf[n], c.value, s.width) - buf.data());
      buf[n++] = ' ';
    }
    put(code);
    buf[n++] = '\n';
    if (n >= kChunk) flush();
  }
  flush();
  file.commit();
}

}  // namespace qedisim
