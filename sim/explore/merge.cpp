#include "sim/explore/merge.h"

#include <fmt/format.h>

#include <fstream>
#include <sstream>

#include "sim/explore/campaign.h"
#include "sim/explore/explore.h"
#include "sim/report/atomic_file.h"

namespace qedisim {

int run_merge(const std::vector<std::string>& files, const std::string& json_out) {
  if (!json_out.empty()) check_writable(json_out);
  std::vector<Campaign> parts;
  for (const auto& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) throw OptionError(fmt::format("{}: cannot read campaign result", f));
    std::ostringstream buf;
    buf << in.rdbuf();
    const nlohmann::json j = nlohmann::json::parse(buf.str(), nullptr, false);
    if (j.is_discarded()) throw OptionError(fmt::format("{}: not JSON", f));
    try {
      parts.push_back(Campaign::from_json(j));
    } catch (const std::runtime_error& e) {
      throw OptionError(fmt::format("{}: {}", f, e.what()));
    }
  }
  Campaign merged;
  try {
    merged = merge_campaigns(parts);
  } catch (const std::runtime_error& e) {
    throw OptionError(fmt::format("merge: {}", e.what()));
  }
  if (!json_out.empty()) write_file_atomically(json_out, merged.to_json().dump(2) + "\n");
  print_campaign_summary(merged, fmt::format("merged {} result(s)", files.size()), true);
  if (!json_out.empty()) fmt::print("  campaign result: {}\n", json_out);
  return campaign_exit_code(merged);
}

}  // namespace qedisim
