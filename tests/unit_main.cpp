// The one Boost.Test main for the pure C++ unit tests.
#define BOOST_TEST_MODULE qedisim_unit
#include <boost/test/unit_test.hpp>
