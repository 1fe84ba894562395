// One flag per patch of "[PATCH v3 00/17] libiscsi and qedi TMF fixes".
// Model code asks `fixes.fixed(Patch::p11)` at the exact place the patch
// changed behaviour; checkers never read these flags.
#pragma once

#include <bitset>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace qedisim {

enum class Patch {
  p01 = 1,
  p02,
  p03,
  p04,
  p05,
  p06,
  p07,
  p08,
  p09,
  p10,
  p11,
  p12,
  p13,
  p14,
  p15,
  p16,
  p17,
};
inline constexpr int kPatchCount = 17;

// "p01".."p17"
std::string patch_name(Patch p);
std::optional<Patch> patch_from_string(std::string_view s);
// One-line subject of each patch mail, for `--help` style listings.
std::string_view patch_subject(Patch p);
// A point of the series: "base" is 0, "p01".."p17" their numbers.
std::optional<int> series_point_from_string(std::string_view s);
// 0 -> "base", n -> "pNN".
std::string series_point_name(int n);

class FixSet {
 public:
  static FixSet all();
  static FixSet none();
  // A kernel that existed: the series applied up to and including patch
  // number `last` (0: the 5.12 base without the series, 17: all of it).
  static FixSet up_to(int last);

  bool fixed(Patch p) const { return bits_.test(static_cast<int>(p)); }
  void set(Patch p, bool on) { bits_.set(static_cast<int>(p), on); }

  // Hard dependencies (the fixed code uses what another patch adds): p10 uses p01's
  // iscsi_task_is_completed, so a set with p10 but not p01 turns p10 off.
  FixSet effective() const;

  std::vector<Patch> patches() const;
  std::vector<std::string> names() const;

  friend bool operator==(const FixSet& a, const FixSet& b) { return a.bits_ == b.bits_; }

 private:
  std::bitset<kPatchCount + 1> bits_;  // bit 0 unused
};

}  // namespace qedisim
