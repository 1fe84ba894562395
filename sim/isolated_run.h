// One simulation in a forked child, so that a process can run several
// (SystemC elaborates once per process). The result comes back as JSON
// through a pipe; a child that dies is an internal error, never a verdict.
#pragma once

#include <stdexcept>

#include "sim/testbench.h"

namespace qedisim {

class InternalError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws InternalError when the child fails or dies.
RunResult run_in_child(const Scenario& scenario, const RunOptions& options);

}  // namespace qedisim
