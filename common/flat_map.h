// A hash map for per-event lookups on hot paths: open addressing with linear
// probing in one array, no node per entry, grown at half full; erase shifts
// the entries after it back, so no tombstone is left. Never iterated in slot
// order, which depends on the hashes and the history of inserts and erases:
// a walk takes sorted_keys(), so no such order leaks into a report or a
// random draw. A pointer or reference to a value stays valid until the next
// insert or erase. Pure C++.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "common/hash_index.h"

namespace qedisim {

template <typename K, typename V, typename Hash>
class FlatMap {
 public:
  explicit FlatMap(std::size_t slots = 64) : slots_(slots) {}  // a power of two

  V* find(const K& key) {
    Slot& s = slots_[probe(key)];
    return s.used ? &s.value : nullptr;
  }
  const V* find(const K& key) const {
    const Slot& s = slots_[probe(key)];
    return s.used ? &s.value : nullptr;
  }
  // The value of `key`, value-initialized when it was not there.
  V& operator[](const K& key) {
    std::size_t i = probe(key);
    if (slots_[i].used) return slots_[i].value;
    if ((count_ + 1) * 2 > slots_.size()) {
      grow();
      i = probe(key);
    }
    ++count_;
    Slot& s = slots_[i];
    s.used = true;
    s.key = key;
    s.value = V();
    return s.value;
  }
  // Removes `key`; false when it was not there.
  bool erase(const K& key) {
    std::size_t i = probe(key);
    if (!slots_[i].used) return false;
    --count_;
    const std::size_t mask = slots_.size() - 1;
    // Backward shift: an entry after the hole moves into it unless its home
    // slot lies cyclically in (hole, entry], where it can already be found.
    for (std::size_t j = (i + 1) & mask; slots_[j].used; j = (j + 1) & mask) {
      if (open_addressing::stays(i, j, home_of(slots_[j].key))) continue;
      slots_[i] = std::move(slots_[j]);
      i = j;
    }
    slots_[i].used = false;
    return true;
  }
  // Every key, ascending (K's operator<): what a walk over a std::map
  // visits, taken before the walk so that it may erase.
  std::vector<K> sorted_keys() const {
    std::vector<K> keys;
    keys.reserve(count_);
    for (const Slot& s : slots_)
      if (s.used) keys.push_back(s.key);
    std::sort(keys.begin(), keys.end());
    return keys;
  }
  std::size_t size() const { return count_; }
  bool empty() const { return count_ == 0; }

 private:
  struct Slot {  // the flag last: no padding in front of the key (a 32-byte key and a 4-byte value: 40 bytes, not 48)
    K key{};
    V value{};
    bool used = false;
  };
  std::size_t home_of(const K& key) const {
    const std::uint64_t h = static_cast<std::uint64_t>(Hash()(key)) * 0x9E3779B97F4A7C15ull;
    return static_cast<std::size_t>(h ^ (h >> 29)) & (slots_.size() - 1);
  }
  // The slot holding `key`, or the empty slot that ends its probe run
  // (where it would go: with no tombstones, nothing lies beyond it).
  std::size_t probe(const K& key) const {
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home_of(key);
    while (slots_[i].used && !(slots_[i].key == key)) i = (i + 1) & mask;
    return i;
  }
  void grow() {
    std::vector<Slot> old(slots_.size() * 2);
    old.swap(slots_);
    for (Slot& s : old)
      if (s.used) slots_[probe(s.key)] = std::move(s);
  }

  std::vector<Slot> slots_;
  std::size_t count_ = 0;
};

}  // namespace qedisim
