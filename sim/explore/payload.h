// What a campaign child sends back for its run: the fields of a RunSummary
// (and the run's end reason) in a flat binary form, counts and lengths as
// native 64-bit words (parent and child are the same binary), strings as
// raw bytes. The parent reads it straight into a RunSummary: as JSON it
// cost ~90 k instructions in the child and ~125 k in the parent per run,
// a tenth of a p11 run.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "sim/explore/campaign.h"
#include "sim/testbench.h"

namespace qedisim {

// `fault_kinds`: swarm's, the fault kinds the run's draw switched on.
std::string encode_payload(const RunResult& r, const std::vector<std::string>& fault_kinds = {});

// Fills `s`'s violations, coverage maps, EH level and fault kinds (its run
// and seed kept), and `end_reason`. False, with both left as they were,
// when `bytes` is not one whole payload (a truncated or foreign answer).
bool decode_payload(std::string_view bytes, RunSummary& s, std::string& end_reason);

}  // namespace qedisim
