// common/address_index.h: (address, tag) -> value, grown from a small table.
#include "common/address_index.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <vector>

using qedisim::AddressIndex;

namespace {
std::uint32_t found(const AddressIndex& index, const void* key, std::uint32_t tag) {
  return index.find(
      key, tag, [](std::uint32_t v) { return v; }, [] { return ~0u; });
}
}  // namespace

BOOST_AUTO_TEST_SUITE(address_index)

// Keys 512 bytes apart (pool slots share their low bits) and three tags
// each: every pair finds its own value through many growths, and a pair
// never inserted misses. A growth that keeps the old mask probes forever
// rather than answering wrong: the timeout makes that a failure here (it
// takes milliseconds when right), not a hang until ctest's timeout.
BOOST_AUTO_TEST_CASE(finds_every_pair_after_growing_and_misses_the_others, *boost::unit_test::timeout(5)) {
  constexpr std::size_t kSlots = 2000, kStride = 512;
  std::vector<char> pool(kSlots * kStride);
  AddressIndex index(4);
  std::uint32_t value = 0;
  for (std::size_t k = 0; k < kSlots; ++k)
    for (std::uint32_t tag = 0; tag < 3; ++tag) index.insert(&pool[k * kStride], tag, value++);
  value = 0;
  bool all = true;
  for (std::size_t k = 0; k < kSlots; ++k)
    for (std::uint32_t tag = 0; tag < 3; ++tag) all = all && found(index, &pool[k * kStride], tag) == value++;
  BOOST_TEST(all);
  BOOST_TEST(found(index, &pool[7 * kStride], 3) == ~0u);
  BOOST_TEST(found(index, &pool[7 * kStride + 1], 0) == ~0u);
}

BOOST_AUTO_TEST_SUITE_END()
