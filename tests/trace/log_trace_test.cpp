// --log and --trace of the p08, p09 and p16 races (issue 18): the log tells
// the race in the kernel's words and reports it the way the kernel does; the
// trace is well-formed Chrome trace-event JSON (every B has its E on its
// track, flows start before they end, timestamps never go back on a
// track); both are byte-identical on a rerun.
#include <boost/test/unit_test.hpp>
#include <cstdlib>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <utility>

#include "tests/common/slurp.h"

using qedisim::test::slurp;

namespace {

// Runs `scenario` with `patch` reverted, writing stem.log and stem.trace.json.
void run_with_log(const std::string& scenario, const std::string& patch, const std::string& stem,
                  const std::string& extra = "") {
  const std::string cmd = std::string(QEDISIM_BIN) + " run " + QEDISIM_SOURCE_DIR + "/configs/" + scenario +
                          ".yaml --revert " + patch + " --quiet --log " + stem + ".log --trace " + stem +
                          ".trace.json " + extra + " > /dev/null";
  const int rc = std::system(cmd.c_str());
  BOOST_REQUIRE_MESSAGE(WEXITSTATUS(rc) == 1, scenario << " with " << patch << " reverted must report violations");
}

// The structure Perfetto and chrome://tracing need.
void check_trace(const std::string& path) {
  const nlohmann::json j = nlohmann::json::parse(slurp(path));
  const auto& events = j.at("traceEvents");
  BOOST_REQUIRE(events.is_array());
  std::map<std::pair<int, int>, int> depth;
  std::map<std::pair<int, int>, double> last_ts;
  std::set<std::uint64_t> flows_started;
  std::size_t slices = 0, flows = 0, threads = 0;
  for (const auto& e : events) {
    const std::string ph = e.at("ph");
    const auto track = std::make_pair(e.at("pid").get<int>(), e.at("tid").get<int>());
    if (ph == "M") {
      threads += e.at("name") == "thread_name";
      continue;
    }
    const double ts = e.at("ts").get<double>();
    if (ph != "C") {
      BOOST_TEST_CONTEXT(e.dump()) { BOOST_TEST(ts >= last_ts[track]); }
      last_ts[track] = ts;
    }
    if (ph == "B") {
      ++depth[track];
      ++slices;
      BOOST_TEST(!e.at("name").get<std::string>().empty());
    } else if (ph == "X") {  // a leaf call: begin and end in one event
      ++slices;
      BOOST_TEST(!e.at("name").get<std::string>().empty());
      BOOST_TEST(e.at("dur").get<double>() >= 0.0);
    } else if (ph == "E") {
      BOOST_TEST_CONTEXT(e.dump()) { BOOST_TEST(depth[track] > 0); }
      --depth[track];
    } else if (ph == "s") {
      flows_started.insert(e.at("id").get<std::uint64_t>());
    } else if (ph == "f") {
      ++flows;
      BOOST_TEST_CONTEXT(e.dump()) { BOOST_TEST(flows_started.count(e.at("id").get<std::uint64_t>()) == 1u); }
    }
  }
  for (const auto& [track, d] : depth) BOOST_TEST(d == 0);
  BOOST_TEST(slices > 10u);
  BOOST_TEST(flows > 0u);
  BOOST_TEST(threads > 3u);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(log_and_trace)

BOOST_AUTO_TEST_CASE(p08_log_tells_the_race_and_reports_it_like_kasan) {
  run_with_log("p08-cleanup-cqe-after-wait-timeout", "p08", "p08");
  const std::string log = slurp("p08.log");
  // The two sides: the abort work's cleanup wait times out, the late cleanup CQE frees the work map, the work frees it
  // again.
  const auto timeout = log.find("qedi: Cleanup timedout tid=0x1");
  const auto cqe_free = log.find("qedi: TMF work found for rtid 0x1: kfree(qedi_work_map");
  const auto kasan = log.find("BUG: KASAN: use-after-free in qedi_abort_work");
  BOOST_TEST(timeout != std::string::npos);
  BOOST_TEST(cqe_free != std::string::npos);
  BOOST_TEST(kasan != std::string::npos);
  BOOST_TEST((timeout < cqe_free && cqe_free < kasan));
  BOOST_TEST(log.find("BUG: KASAN: double-free in qedi_abort_work") != std::string::npos);
  BOOST_TEST(log.find("[    6.100000] checker   tmf_wq/host0 qedi_abort_work:") != std::string::npos);
  check_trace("p08.trace.json");
  // Deterministic: byte-identical on a rerun.
  run_with_log("p08-cleanup-cqe-after-wait-timeout", "p08", "p08-again");
  BOOST_TEST(slurp("p08-again.log") == log);
  BOOST_TEST(slurp("p08-again.trace.json") == slurp("p08.trace.json"));
}

BOOST_AUTO_TEST_CASE(p09_and_p16_traces_are_well_formed) {
  run_with_log("p09-tid-reuse-during-abort", "p09", "p09");
  check_trace("p09.trace.json");
  const std::string log = slurp("p09.log");
  BOOST_TEST(log.find("WARNING: tid_double_owner in qedi_iscsi_send_ioreq") != std::string::npos);
  BOOST_TEST(log.find("qedi: Freeing tid=0x1") != std::string::npos);
  run_with_log("p16-queued-abort-work-outlives-ep-disconnect", "p16", "p16");
  check_trace("p16.trace.json");
  BOOST_TEST(slurp("p16.log").find("qedi: ep_disconnect done") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(log_filter_keeps_the_named_layers_and_every_violation) {
  run_with_log("p08-cleanup-cqe-after-wait-timeout", "p08", "p08-qedi", "--log-filter qedi");
  const std::string log = slurp("p08-qedi.log");
  std::istringstream in(log);
  std::string line;
  std::size_t lines = 0;
  while (std::getline(in, line)) {
    ++lines;
    const std::string layer = line.substr(15, 9);
    BOOST_TEST_CONTEXT(line) { BOOST_TEST((layer == "qedi     " || layer == "checker  ")); }
  }
  BOOST_TEST(lines > 5u);
  BOOST_TEST(log.find("BUG: KASAN: use-after-free") != std::string::npos);
}

BOOST_AUTO_TEST_SUITE_END()
