// libsystemc owns main() and calls sc_main.
#include <cstdlib>
#include <systemc>

#include "sim/cli.h"

namespace {
// Runs before any static SystemC object can create the simulation context,
// which is when the library prints its banner unless this is set.
__attribute__((constructor(101))) void quiet_systemc_banner() { ::setenv("SYSTEMC_DISABLE_COPYRIGHT_MESSAGE", "1", 0); }
}  // namespace

int sc_main(int argc, char** argv) { return qedisim::cli_main(argc, argv); }
