// Writes a Tracer's recording as a VCD file (IEEE 1364 four-state subset plus
// GTKWave's `$var string`), atomically: a temporary name, renamed when complete.
#pragma once

#include <string>

#include "sim/trace/tracer.h"

namespace qedisim {

// Throws std::runtime_error with the path and reason when the file cannot be written.
void write_vcd(const Tracer& tracer, const std::string& path, const std::string& scenario_name);

}  // namespace qedisim
