// The checker tests build objects by hand and never elaborate a model, so
// every case may share this process; sc_main only sets SystemC up the way
// the model expects (ns resolution) before Boost.Test runs.
#define BOOST_TEST_NO_MAIN
#include <boost/test/unit_test.hpp>
#include <systemc>

int sc_main(int argc, char* argv[]) {
  sc_core::sc_report_handler::set_actions("/OSCI/SystemC", sc_core::SC_INFO, sc_core::SC_DO_NOTHING);
  sc_core::sc_set_time_resolution(1, sc_core::SC_NS);
  return boost::unit_test::unit_test_main([] { return true; }, argc, argv);
}
