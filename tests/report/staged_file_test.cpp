// StagedFile (sim/report/atomic_file.h): an output appears under its name
// only once committed, whole; a file-less one does nothing; a failed write
// is an OutputError at commit with nothing left behind.
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdio>
#include <filesystem>
#include <sstream>
#include <string>

#include "sim/report/atomic_file.h"
#include "tests/common/slurp.h"

using qedisim::test::slurp;

namespace fs = std::filesystem;
using qedisim::OutputError;
using qedisim::StagedFile;

namespace {

// A fresh, empty directory for one case.
fs::path scratch(const std::string& name) {
  fs::path d = fs::temp_directory_path() / ("qedisim-staged-" + std::to_string(::getpid()) + "-" + name);
  fs::remove_all(d);
  fs::create_directories(d);
  return d;
}

std::size_t entries(const fs::path& d) {
  return static_cast<std::size_t>(std::distance(fs::directory_iterator(d), fs::directory_iterator()));
}

}  // namespace

BOOST_AUTO_TEST_SUITE(staged_file)

BOOST_AUTO_TEST_CASE(appears_only_when_committed) {
  const fs::path d = scratch("commit");
  const fs::path out = d / "out.txt";
  {
    StagedFile f(out.string(), 4096);
    BOOST_TEST(static_cast<bool>(f));
    f.write("hello ");
    f.write("world\n");
    BOOST_TEST(!fs::exists(out));  // still staged
    f.commit();
    BOOST_TEST(!static_cast<bool>(f));
  }
  BOOST_TEST(slurp(out) == "hello world\n");
  BOOST_TEST(entries(d) == 1u);  // no staging file left
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(leaves_nothing_when_abandoned_or_dropped) {
  const fs::path d = scratch("abandon");
  {
    StagedFile f((d / "a.txt").string());
    f.write("partial");
    f.abandon();
    f.commit();  // nothing left to commit
  }
  {
    StagedFile f((d / "b.txt").string());
    f.write("partial");
  }  // an exception on the way: destroyed uncommitted
  BOOST_TEST(entries(d) == 0u);
  fs::remove_all(d);
}

BOOST_AUTO_TEST_CASE(a_file_less_one_does_nothing) {
  StagedFile none;
  BOOST_TEST(!static_cast<bool>(none));
  none.write("ignored");  // no file: no write
  none.commit();
  none.abandon();
}

BOOST_AUTO_TEST_CASE(a_failed_write_is_an_output_error_at_commit) {
  if (!fs::exists("/dev/full")) return;  // the device that is always full
  StagedFile f("/dev/full");             // a device is written in place, not staged
  f.write(std::string(1 << 16, 'x'));
  BOOST_CHECK_THROW(f.commit(), OutputError);
  BOOST_CHECK_THROW(StagedFile("/nonexistent-dir/x.txt"), OutputError);
}

BOOST_AUTO_TEST_SUITE_END()
