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
  explicit AddressIndex(std::size_t slots)
      : slots_(slots), mask_(slots - 1), shift_(64 - log2(slots)) {}  // a power of two, >= 2
  // hit(value) when (key, tag) is in the index, else miss(). key not null.
  template <typename Hit, typename Miss>
  decltype(auto) find(const void* key, std::uint32_t tag, Hit hit, Miss miss) const {
    for (std::size_t i = home(key, tag);; i = (i + 1) & mask_) {
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
      mask_ = slots_.size() - 1;
      --shift_;
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
  // Fibonacci hashing: the product's top bits, where every bit of the key
  // and the tag has mixed in (the low bits of an address are mostly zero).
  std::size_t home(const void* key, std::uint32_t tag) const {
    const std::uint64_t h = (reinterpret_cast<std::uintptr_t>(key) ^ tag) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h >> shift_);
  }
  void place(const Slot& s) {
    std::size_t i = home(s.key, s.tag);
    while (slots_[i].key) i = (i + 1) & mask_;
    slots_[i] = s;
  }
  static unsigned log2(std::size_t n) {
    unsigned b = 0;
    while ((std::size_t{1} << b) < n) ++b;
    return b;
  }
  std::vector<Slot> slots_;
  std::size_t mask_;  // slots - 1: kept, not derived from the vector at every probe
  unsigned shift_;    // 64 - log2(slots)
  std::size_t count_ = 0;
};

}  // namespace qedisim
