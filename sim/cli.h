// The qedisim command line (docs/scenarios.md "Command line", "Exit codes").
#pragma once

namespace qedisim {

enum ExitCode : int {
  kExitClean = 0,
  kExitViolation = 1,  // run: an invariant fired; check: an expectation failed
  kExitBadInput = 2,
  kExitInternal = 3,
};

int cli_main(int argc, char** argv);

}  // namespace qedisim
