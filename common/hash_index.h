// An index for hot-path lookups where the keys live in the caller's own
// storage: each slot is 8 bytes, a 32-bit value (an index into that
// storage) and the key's 32-bit hash, so a table probed at random stays
// small whatever the key's size. Open addressing with linear probing, grown
// at half full; erase shifts the entries after it back (no tombstone), as
// FlatMap does. The caller compares keys: find() asks it only about a value
// whose hash agrees. Never iterated. Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

namespace qedisim {

namespace open_addressing {
// After a hole at `hole`, whether the entry at `entry` (its home slot
// `home`) stays where it is in a backward-shift erase: its home lies
// cyclically in (hole, entry], where a probe from home reaches it without
// crossing the hole.
inline bool stays(std::size_t hole, std::size_t entry, std::size_t home) {
  return hole <= entry ? (hole < home && home <= entry) : (hole < home || home <= entry);
}
}  // namespace open_addressing

class HashIndex {
 public:
  explicit HashIndex(std::size_t slots = 64) : slots_(slots) {}  // a power of two

  // The value under `hash` for which same(value) holds, if any.
  template <typename Same>
  std::optional<std::uint32_t> find(std::uint32_t hash, Same same) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash & mask; slots_[i].value_plus1 != 0; i = (i + 1) & mask)
      if (slots_[i].hash == hash && same(slots_[i].value_plus1 - 1)) return slots_[i].value_plus1 - 1;
    return std::nullopt;
  }
  // Adds `value` under `hash` (the caller found its key absent).
  void insert(std::uint32_t hash, std::uint32_t value) {
    if ((count_ + 1) * 2 > slots_.size()) grow();
    place(Slot{value + 1, hash});
    ++count_;
  }
  // Removes `value`, found under `hash`; false when it was not there.
  bool erase(std::uint32_t hash, std::uint32_t value) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash & mask;
    while (slots_[i].value_plus1 != value + 1) {
      if (slots_[i].value_plus1 == 0) return false;
      i = (i + 1) & mask;
    }
    for (std::size_t j = (i + 1) & mask; slots_[j].value_plus1 != 0; j = (j + 1) & mask) {
      if (open_addressing::stays(i, j, slots_[j].hash & mask)) continue;
      slots_[i] = slots_[j];
      i = j;
    }
    slots_[i] = Slot{};
    --count_;
    return true;
  }
  std::size_t size() const { return count_; }

 private:
  struct Slot {
    std::uint32_t value_plus1 = 0;  // 0: empty
    std::uint32_t hash = 0;
  };
  void place(Slot s) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = s.hash & mask;
    while (slots_[i].value_plus1 != 0) i = (i + 1) & mask;
    slots_[i] = s;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (const Slot& s : old)
      if (s.value_plus1 != 0) place(s);
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace qedisim
