// The waveform of a bug scenario tells its story (issue 7): the VCD written
// by `qedisim run --vcd` holds the TMF state sequence and the checkers' step
// at the reported violation time, the generated .gtkw names only signals the
// VCD has, and the same scenario and seed give a byte-identical VCD.
#define BOOST_TEST_MODULE qedisim_trace
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "tests/common/slurp.h"

using qedisim::test::slurp;

namespace {

const std::string kScenario = std::string(QEDISIM_SOURCE_DIR) + "/configs/p08-cleanup-cqe-after-wait-timeout.yaml";

// Runs the p08 race with its fix reverted; returns the report.
nlohmann::json run_p08(const std::string& stem) {
  const std::string cmd = std::string(QEDISIM_BIN) + " run " + kScenario + " --revert p08 --quiet --vcd " + stem +
                          ".vcd --report " + stem + ".json > /dev/null";
  const int rc = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(WEXITSTATUS(rc) == 1, "the reverted p08 run must report violations");
  return nlohmann::json::parse(slurp(stem + ".json"));
}

struct Vcd {
  std::map<std::string, std::string> code_of;  // "host.session0.tmf_state" -> code
  // code -> (time, value) in file order
  std::map<std::string, std::vector<std::pair<long long, std::string>>> changes;
};

Vcd parse(const std::string& text) {
  Vcd v;
  std::istringstream in(text);
  std::string line;
  std::vector<std::string> scope;
  long long now = 0;
  bool defs = true;
  const std::regex var(R"(\$var \w+ \d+ (\S+) (\S+) \$end)");
  while (std::getline(in, line)) {
    std::smatch m;
    if (defs) {
      if (line.rfind("$scope module ", 0) == 0) {
        scope.push_back(line.substr(14, line.find(" $end") - 14));
      } else if (line.rfind("$upscope", 0) == 0) {
        scope.pop_back();
      } else if (std::regex_search(line, m, var)) {
        std::string path;
        for (const auto& s : scope) path += s + ".";
        v.code_of[path + m[2].str()] = m[1];
      } else if (line.rfind("$enddefinitions", 0) == 0) {
        defs = false;
      }
      continue;
    }
    if (line.empty()) continue;
    if (line[0] == '#') {
      now = std::stoll(line.substr(1));
    } else if (line[0] == 'b' || line[0] == 's') {
      const auto sp = line.find(' ');
      v.changes[line.substr(sp + 1)].emplace_back(now, line.substr(1, sp - 1));
    } else {
      v.changes[line.substr(1)].emplace_back(now, line.substr(0, 1));
    }
  }
  return v;
}

}  // namespace

BOOST_AUTO_TEST_CASE(tmf_state_sequence_and_violation_step_are_in_the_vcd) {
  const auto report = run_p08("trace_a");
  const Vcd vcd = parse(slurp("trace_a.vcd"));

  // ABORT TASK queued at the scsi.abort (1 s): INITIAL (0) then QUEUED (1).
  const auto& tmf = vcd.changes.at(vcd.code_of.at("host.session0.tmf_state"));
  BOOST_REQUIRE(tmf.size() >= 2u);
  BOOST_TEST(tmf[0].second == "0");
  BOOST_TEST(tmf[1].second == "1");
  BOOST_TEST(tmf[1].first == 1'000'000'000LL);

  // Each reported violation id steps up at its reported time.
  for (const auto& v : report["violations"]) {
    const std::string id = v["id"];
    const long long t = v["time_ns"];
    const auto& steps = vcd.changes.at(vcd.code_of.at("checkers." + id));
    bool found = false;
    for (const auto& [time, value] : steps) found = found || (time == t && value != "0");
    BOOST_TEST(found, id << " has no step at " << t);
  }
}

BOOST_AUTO_TEST_CASE(gtkw_names_only_signals_present_in_the_vcd) {
  run_p08("trace_b");
  const Vcd vcd = parse(slurp("trace_b.vcd"));
  std::istringstream gtkw(slurp("trace_b.gtkw"));
  std::string line;
  int traces = 0;
  while (std::getline(gtkw, line)) {
    if (line.empty() || line[0] == '[' || line[0] == '*' || line[0] == '@' || line[0] == '-' || line[0] == '^')
      continue;
    const std::string name = line.substr(0, line.find('['));  // drop the [msb:0] range
    BOOST_TEST(vcd.code_of.count(name) == 1u, "the .gtkw names " << name << ", which is not in the VCD");
    ++traces;
  }
  BOOST_TEST(traces > 10);
  // Translate filters exist for the enum traces.
  BOOST_TEST(!slurp("trace_b.tmf_state.txt").empty());
}

BOOST_AUTO_TEST_CASE(gtkw_paths_are_relative_to_the_save_file_so_it_can_be_moved) {
  run_p08("trace_m");
  std::istringstream gtkw(slurp("trace_m.gtkw"));
  std::string line;
  bool dumpfile = false, savefile = false;
  int filters = 0;
  while (std::getline(gtkw, line)) {
    if (line.rfind("[dumpfile] ", 0) == 0) dumpfile = (line == "[dumpfile] \"trace_m.vcd\"");
    if (line.rfind("[savefile] ", 0) == 0) savefile = (line == "[savefile] \"trace_m.gtkw\"");
    if (line.rfind("^1 ", 0) == 0) {
      const std::string file = line.substr(3);
      BOOST_TEST(file.find('/') == std::string::npos, "filter path " << file << " is not beside the .gtkw");
      BOOST_TEST(!slurp(file).empty());
      ++filters;
    }
  }
  BOOST_TEST(dumpfile, "[dumpfile] must name the VCD beside the .gtkw");
  BOOST_TEST(savefile, "[savefile] must name the .gtkw itself (GTKWave resolves the others against it)");
  BOOST_TEST(filters > 0);
}

BOOST_AUTO_TEST_CASE(same_scenario_and_seed_give_a_byte_identical_vcd) {
  run_p08("trace_c1");
  run_p08("trace_c2");
  BOOST_TEST(slurp("trace_c1.vcd") == slurp("trace_c2.vcd"));
  BOOST_TEST(slurp("trace_c1.json") == slurp("trace_c2.json"));
}
