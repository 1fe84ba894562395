// One Boost.Test binary for the pure (SystemC-free) HBA and tid pieces.
#define BOOST_TEST_MODULE qedisim_hba_unit
#include <boost/test/unit_test.hpp>
