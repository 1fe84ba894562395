// `qedisim merge A.json B.json ... [--json OUT]`: combines the results of the
// shards of one campaign (explore --shard i/n --json ...) into one, the same
// as the unsharded campaign's apart from wall-clock figures.
#pragma once

#include <string>
#include <vector>

namespace qedisim {

// Exit code as explore's for the merged campaign; throws OptionError when a
// file is unreadable, not a campaign result, or from another campaign.
int run_merge(const std::vector<std::string>& files, const std::string& json_out);

}  // namespace qedisim
