// libFuzzer target over the scenario loader and validator (issue 10): any
// input must either load or be rejected with a ScenarioError carrying a
// position; never a crash, a hang, or another exception.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "sim/scenario/loader.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  try {
    const qedisim::Scenario s = qedisim::load_scenario_text(text, "fuzz.yaml");
    (void)s.scaled(1.2);
  } catch (const qedisim::ScenarioError& e) {
    if (e.line() < 1 || e.column() < 1) std::abort();
  }
  return 0;
}
