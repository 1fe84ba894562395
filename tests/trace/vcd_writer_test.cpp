// sim/trace/vcd_writer.cpp writes each value change by hand into a buffer
// it flushes a megabyte at a time. Its change section must read as a plain
// formatting of the recorded changes would: integers of widths 1, 5, 32 and
// 64 with values wider than the signal, a string longer than the buffer,
// and enough changes to flush the buffer several times.
#include "sim/trace/vcd_writer.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <cstdio>
#include <map>
#include <random>
#include <sstream>
#include <string>

#include "sim/trace/tracer.h"
#include "tests/common/slurp.h"

using qedisim::test::slurp;

using qedisim::Tracer;

namespace {

// The low `width` bits of v in binary, without leading zeros.
std::string binary(std::uint64_t v, unsigned width) {
  if (width < 64) v &= (std::uint64_t{1} << width) - 1;
  std::string s;
  for (int bit = 63; bit >= 0; --bit)
    if (!s.empty() || ((v >> bit) & 1)) s += ((v >> bit) & 1) ? '1' : '0';
  return s.empty() ? "0" : s;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(vcd_writer)

BOOST_AUTO_TEST_CASE(changes_read_as_a_plain_formatting_of_them) {
  Tracer t(true);
  const Tracer::SignalId ints[4] = {t.declare_int("a", "one", 1), t.declare_int("a", "five", 5),
                                    t.declare_int("a.b", "thirty_two", 32), t.declare_int("a.b", "sixty_four", 64)};
  const Tracer::SignalId text = t.declare_string("c", "text");
  std::mt19937_64 rng(7);
  std::int64_t now = 0;
  const std::uint64_t edges[] = {0, 1, 2, 31, 32, 1ull << 31, 0xffffffffull, 1ull << 63, ~0ull};
  for (int step = 0; step < 300'000; ++step) {
    now += static_cast<std::int64_t>(rng() % 3);  // equal times share one "#" line
    const std::uint64_t v = rng() % 4 == 0 ? edges[rng() % 9] : rng() >> (rng() % 64);
    t.set(ints[rng() % 4], now, v);
    if (step % 50'000 == 7) t.set_string(text, now, "ctx state " + std::to_string(step));
  }
  // Longer than the writer's buffer, spaces written as '_'.
  t.set_string(text, now + 1, std::string(3u << 20, ' ') + "end");
  t.set(ints[3], now + 2, 5);
  BOOST_REQUIRE_GT(t.changes().size(), 200'000u);

  const std::string path = "vcd_writer_test.vcd";
  qedisim::write_vcd(t, path, "unit");
  const std::string vcd = slurp(path);
  std::remove(path.c_str());

  // Each signal's code, from the header.
  std::map<std::string, std::string> code_of;
  std::istringstream header(vcd.substr(0, vcd.find("$enddefinitions")));
  for (std::string line; std::getline(header, line);) {
    std::istringstream words(line);
    std::string var, kind, width, code, name;
    if (words >> var >> kind >> width >> code >> name && var == "$var") code_of[name] = code;
  }
  BOOST_REQUIRE_EQUAL(code_of.size(), 5u);

  std::string want;
  std::int64_t current = -1;
  for (const Tracer::Change& c : t.changes()) {
    if (c.time_ns != current) want += "#" + std::to_string(c.time_ns) + "\n";
    current = c.time_ns;
    const Tracer::Signal& s = t.signals()[c.id];
    const std::string& code = code_of.at(s.name);
    if (s.width == 0) {
      std::string shown = t.texts()[c.text];
      for (char& ch : shown)
        if (ch == ' ') ch = '_';
      want.append("s").append(shown).append(" ").append(code).append("\n");
    } else if (s.width == 1) {
      want += std::string(1, (c.value & 1) ? '1' : '0') + code + "\n";
    } else {
      want += "b" + binary(c.value, s.width) + " " + code + "\n";
    }
  }
  const std::string marker = "$enddefinitions $end\n";
  const std::string got = vcd.substr(vcd.find(marker) + marker.size());
  BOOST_TEST(got.size() == want.size());
  BOOST_TEST((got == want));
}

BOOST_AUTO_TEST_SUITE_END()
