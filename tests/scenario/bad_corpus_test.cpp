// Every file in tests/scenario/bad/ must be rejected with the exact position
// and message its first line names: "# expect: LINE:COL: message fragment".
#include <unistd.h>

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "sim/scenario/loader.h"

namespace fs = std::filesystem;
using qedisim::ScenarioError;

namespace {
std::vector<fs::path> bad_files() {
  std::vector<fs::path> files;
  for (const auto& e : fs::directory_iterator(fs::path(QEDISIM_SOURCE_DIR) / "tests/scenario/bad"))
    if (e.path().extension() == ".yaml") files.push_back(e.path());
  std::sort(files.begin(), files.end());
  return files;
}

std::string first_line(const fs::path& p) {
  std::ifstream in(p);
  std::string line;
  std::getline(in, line);
  return line;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(bad_corpus)

BOOST_AUTO_TEST_CASE(corpus_has_at_least_30_files) { BOOST_TEST(bad_files().size() >= 30u); }

BOOST_AUTO_TEST_CASE(each_file_fails_at_its_line_and_column) {
  for (const auto& path : bad_files()) {
    BOOST_TEST_CONTEXT(path.filename().string()) {
      const std::string header = first_line(path);
      const std::string tag = "# expect: ";
      BOOST_REQUIRE_MESSAGE(header.rfind(tag, 0) == 0, "first line must be '# expect: LINE:COL: message'");
      const std::string expected = header.substr(tag.size());
      bool threw = false;
      try {
        qedisim::load_scenario_file(path.string());
      } catch (const ScenarioError& e) {
        threw = true;
        const std::string got = std::to_string(e.line()) + ":" + std::to_string(e.column()) + ": " + e.message();
        BOOST_TEST(got.rfind(expected, 0) == 0, "expected '" << expected << "'\n got '" << got << "'");
        // The full text always starts with the file name as given.
        BOOST_TEST(std::string(e.what()).rfind(path.string() + ":", 0) == 0);
      }
      BOOST_TEST(threw, "file was accepted");
    }
  }
}

BOOST_AUTO_TEST_CASE(missing_file_and_directory_are_errors) {
  BOOST_CHECK_THROW(qedisim::load_scenario_file("/nonexistent/qedisim.yaml"), ScenarioError);
  try {
    qedisim::load_scenario_file(QEDISIM_SOURCE_DIR);
    BOOST_FAIL("a directory was accepted");
  } catch (const ScenarioError& e) {
    BOOST_TEST(e.message().find("directory") != std::string::npos);
    BOOST_TEST(e.line() == 1);
  }
}

BOOST_AUTO_TEST_CASE(a_10_mb_file_is_refused_before_parsing) {
  // Unique per process: two suites may run on one machine at once.
  const fs::path big = fs::temp_directory_path() / ("qedisim-10mb-" + std::to_string(::getpid()) + ".yaml");
  {
    std::ofstream out(big, std::ios::binary);
    out << "qedisim: 1\nname: big\nabout: ";
    out << std::string(10u << 20, 'a') << "\n";
  }
  try {
    qedisim::load_scenario_file(big.string());
    BOOST_FAIL("a 10 MB file was accepted");
  } catch (const ScenarioError& e) {
    BOOST_TEST(e.line() == 1);
    BOOST_TEST(e.message().find("at most 1048576") != std::string::npos);
  }
  fs::remove(big);
}

BOOST_AUTO_TEST_SUITE_END()
