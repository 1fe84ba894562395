// common/hash_index.h: 8-byte slots over the caller's storage, open
// addressing with backward-shift erase, checked against std::unordered_map.
#include "common/hash_index.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <unordered_map>
#include <vector>

using qedisim::HashIndex;

BOOST_AUTO_TEST_SUITE(hash_index)

// 20,000 random inserts, erases and lookups over 300 keys with 5 distinct
// hashes (long probe runs that wrap around the table's end, where an erase
// has to shift entries whose home lies before the hole), from a 4-slot
// table. The keys live in `stored` (value = position there), as a caller's
// records do: after every step the index finds exactly what
// std::unordered_map holds.
BOOST_AUTO_TEST_CASE(agrees_with_unordered_map_under_collisions_and_erases) {
  HashIndex index(4);
  std::vector<std::uint32_t> stored;                     // value -> key
  std::unordered_map<std::uint32_t, std::uint32_t> ref;  // key -> value
  auto hash = [](std::uint32_t key) { return key % 5; };
  auto find = [&](std::uint32_t key) {
    return index.find(hash(key), [&](std::uint32_t value) { return stored[value] == key; });
  };
  auto agrees = [&](std::uint32_t key) {
    const auto got = find(key);
    const auto it = ref.find(key);
    return got.has_value() == (it != ref.end()) && (!got || *got == it->second);
  };
  std::mt19937_64 rng(7);
  bool agree = true;
  for (int step = 0; step < 20000 && agree; ++step) {
    const auto key = static_cast<std::uint32_t>(rng() % 300);
    switch (rng() % 3) {
      case 0:
        if (!find(key)) {
          const auto value = static_cast<std::uint32_t>(stored.size());
          stored.push_back(key);
          index.insert(hash(key), value);
          ref[key] = value;
        }
        break;
      case 1: {
        const auto it = ref.find(key);
        const bool erased = index.erase(hash(key), it == ref.end() ? 0xFFFFFFFEu : it->second);
        agree = erased == (it != ref.end());
        if (it != ref.end()) ref.erase(it);
        break;
      }
      default:
        agree = agrees(key);
    }
    agree = agree && index.size() == ref.size();
  }
  for (std::uint32_t key = 0; key < 300 && agree; ++key) agree = agrees(key);
  BOOST_TEST(agree);
}

// erase() removes the entry with that value only, not another under the
// same hash.
BOOST_AUTO_TEST_CASE(erase_takes_the_value_it_is_given) {
  HashIndex index(4);
  index.insert(3, 10);
  index.insert(3, 11);
  BOOST_TEST(!index.erase(3, 12));
  BOOST_TEST(index.erase(3, 10));
  BOOST_TEST(!index.erase(3, 10));
  BOOST_TEST(index.find(3, [](std::uint32_t v) { return v == 11; }).value_or(0) == 11u);
  BOOST_TEST(!index.find(3, [](std::uint32_t v) { return v == 10; }));
  BOOST_TEST(index.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
