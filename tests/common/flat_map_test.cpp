// common/flat_map.h: open addressing with backward-shift erase, checked
// against std::unordered_map.
#include "common/flat_map.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

using qedisim::FlatMap;

namespace {
// Few distinct hashes: long probe runs that wrap around the table's end,
// where an erase has to shift entries whose home lies before the hole.
struct CollidingHash {
  std::size_t operator()(std::uint32_t k) const { return k % 5; }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(flat_map)

// 20,000 random inserts, erases and lookups over 300 keys, from a 4-slot
// table: after every step the map holds exactly what std::unordered_map
// holds, and every 50 steps sorted_keys() lists its keys ascending, whatever
// order the inserts, erases and collisions left them in the slots.
BOOST_AUTO_TEST_CASE(agrees_with_unordered_map_under_collisions_and_erases) {
  FlatMap<std::uint32_t, std::uint64_t, CollidingHash> flat(4);
  std::unordered_map<std::uint32_t, std::uint64_t> ref;
  std::mt19937_64 rng(7);
  bool agree = true;
  for (int step = 0; step < 20000 && agree; ++step) {
    const auto key = static_cast<std::uint32_t>(rng() % 300);
    switch (rng() % 3) {
      case 0:
        flat[key] = static_cast<std::uint64_t>(step);
        ref[key] = static_cast<std::uint64_t>(step);
        break;
      case 1:
        agree = flat.erase(key) == (ref.erase(key) == 1);
        break;
      default: {
        const std::uint64_t* v = flat.find(key);
        const auto it = ref.find(key);
        agree = (v == nullptr) == (it == ref.end()) && (!v || *v == it->second);
      }
    }
    agree = agree && flat.size() == ref.size();
    if (step % 50 == 0 && agree) {
      std::vector<std::uint32_t> keys;
      keys.reserve(ref.size());
      for (const auto& kv : ref) keys.push_back(kv.first);
      std::sort(keys.begin(), keys.end());
      agree = flat.sorted_keys() == keys;
    }
  }
  for (std::uint32_t key = 0; key < 300 && agree; ++key) {
    const std::uint64_t* v = flat.find(key);
    const auto it = ref.find(key);
    agree = (v == nullptr) == (it == ref.end()) && (!v || *v == it->second);
  }
  BOOST_TEST(agree);
}

// A key inserted after an erase gets a value-initialized value, not the
// one its slot last held.
BOOST_AUTO_TEST_CASE(a_new_key_starts_from_a_fresh_value) {
  FlatMap<std::uint32_t, std::uint64_t, CollidingHash> flat(4);
  flat[1] = 11;
  BOOST_TEST(flat.erase(1));
  BOOST_TEST(!flat.erase(1));
  BOOST_TEST(flat[1] == 0u);
  BOOST_TEST(flat.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
