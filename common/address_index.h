// A lookup table from (address, tag) to a 32-bit value, for per-event
// lookups on hot paths: open addressing with linear probing, no node per
// entry, grown at half full. Entries are never removed. Pure C++.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

namespace qedisim {

class AddressIndex {
 public:
  explicit AddressIndex(std::size_t slots) : slots_(slots) {}  // a power of two
  // hit(value) when (key, tag) is in the index, else miss(). key not null.
  template <typename Hit, typename Miss>
  decltype(auto) find(const void* key, std::uint32_t tag, Hit hit, Miss miss) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = hash(key, tag) & mask;; i = (i + 1) & mask) {
      const Slot& s = slots_[i];
      if (s.key == key && s.tag == tag) return hit(s.value);
      if (!s.key) return miss();
    }
  }
  // (key, tag), not in the index yet and key not null, -> value.
  void insert(const void* key, std::uint32_t tag, std::uint32_t value) {
    if ((++count_) * 2 > slots_.size()) {
      std::vector<Slot> old(slots_.size() * 2);
      old.swap(slots_);
      for (const Slot& s : old)
        if (s.key) place(s);
    }
    place(Slot{key, tag, value});
  }

 private:
  struct Slot {
    const void* key = nullptr;  // null: empty
    std::uint32_t tag = 0;
    std::uint32_t value = 0;
  };
  static std::size_t hash(const void* key, std::uint32_t tag) {
    const std::uint64_t h = reinterpret_cast<std::uintptr_t>(key) * 0x9E3779B97F4A7C15ull + tag * 0xC2B2AE3D27D4EB4Full;
    return static_cast<std::size_t>(h ^ (h >> 29));
  }
  void place(const Slot& s) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = hash(s.key, s.tag) & mask;
    while (slots_[i].key) i = (i + 1) & mask;
    slots_[i] = s;
  }
  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace qedisim
