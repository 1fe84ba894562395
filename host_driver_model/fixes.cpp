#include "host_driver_model/fixes.h"

#include <fmt/format.h>

#include <array>

namespace qedisim {

namespace {
constexpr std::array<std::string_view, kPatchCount> kSubjects{
    "scsi: iscsi: add task completion helper",
    "scsi: iscsi: sync libiscsi and driver reset cleanup",
    "scsi: iscsi: stop queueing during ep_disconnect",
    "scsi: iscsi: drop suspend calls from ep_disconnect",
    "scsi: iscsi: wait on cmds before freeing conn",
    "scsi: iscsi: fix use conn use after free",
    "scsi: iscsi: move pool freeing",
    "scsi: qedi: fix null ref during abort handling",
    "scsi: qedi: fix race during abort timeouts",
    "scsi: qedi: fix use after free during abort cleanup",
    "scsi: qedi: fix TMF tid allocation",
    "scsi: qedi: use GFP_NOIO for tmf allocation",
    "scsi: qedi: fix TMF session block/unblock use",
    "scsi: qedi: fix cleanup session block/unblock use",
    "scsi: qedi: pass send_iscsi_tmf task to abort",
    "scsi: qedi: complete TMF works before disconnect",
    "scsi: qedi: always wake up if cmd_cleanup_req is set",
};
}  // namespace

std::string patch_name(Patch p) { return fmt::format("p{:02d}", static_cast<int>(p)); }

std::optional<Patch> patch_from_string(std::string_view s) {
  if (s.size() != 3 || s[0] != 'p' || s[1] < '0' || s[1] > '9' || s[2] < '0' || s[2] > '9') return std::nullopt;
  const int n = (s[1] - '0') * 10 + (s[2] - '0');
  if (n < 1 || n > kPatchCount) return std::nullopt;
  return static_cast<Patch>(n);
}

std::string_view patch_subject(Patch p) { return kSubjects[static_cast<int>(p) - 1]; }

FixSet FixSet::all() {
  FixSet s;
  for (int i = 1; i <= kPatchCount; ++i) s.bits_.set(i);
  return s;
}

FixSet FixSet::none() { return FixSet{}; }

FixSet FixSet::up_to(int last) {
  FixSet s;
  for (int i = 1; i <= last && i <= kPatchCount; ++i) s.bits_.set(i);
  return s;
}

std::optional<int> series_point_from_string(std::string_view s) {
  if (s == "base") return 0;
  if (const auto p = patch_from_string(s)) return static_cast<int>(*p);
  return std::nullopt;
}

std::string series_point_name(int n) { return n == 0 ? std::string("base") : patch_name(static_cast<Patch>(n)); }

FixSet FixSet::effective() const {
  FixSet s = *this;
  if (!s.fixed(Patch::p01)) s.set(Patch::p10, false);
  return s;
}

std::vector<Patch> FixSet::patches() const {
  std::vector<Patch> out;
  for (int i = 1; i <= kPatchCount; ++i)
    if (bits_.test(i)) out.push_back(static_cast<Patch>(i));
  return out;
}

std::vector<std::string> FixSet::names() const {
  std::vector<std::string> out;
  for (Patch p : patches()) out.push_back(patch_name(p));
  return out;
}

}  // namespace qedisim
