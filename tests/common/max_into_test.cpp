// common/max_into.h: every variant the machine can run gives the scalar
// loop's result, at every length around the vector widths and with values
// on both sides of 2^31 (SSE2 compares signed: its bias must hold).
#include "common/max_into.h"

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <random>
#include <vector>

namespace {
using Fn = void (*)(std::uint32_t*, const std::uint32_t*, std::size_t);

bool agrees_with_scalar(Fn fn) {
  std::mt19937 rng(3);
  for (std::size_t n = 0; n <= 70; ++n) {
    for (int round = 0; round < 20; ++round) {
      std::vector<std::uint32_t> a(n), b(n);
      for (std::size_t i = 0; i < n; ++i) {
        // Small, large and equal values: what clocks hold, and the high bit.
        const std::uint32_t pick = rng() % 4;
        a[i] = pick == 0 ? rng() % 8 : rng();
        b[i] = pick == 1 ? a[i] : pick == 2 ? a[i] ^ 0x80000000u : rng();
      }
      std::vector<std::uint32_t> want = a, got = a;
      qedisim::max_into_scalar(want.data(), b.data(), n);
      fn(got.data(), b.data(), n);
      if (got != want) return false;
    }
  }
  return true;
}
}  // namespace

BOOST_AUTO_TEST_SUITE(max_into)

BOOST_AUTO_TEST_CASE(sse2_agrees_with_the_scalar_loop) { BOOST_TEST(agrees_with_scalar(qedisim::max_into_sse2)); }

BOOST_AUTO_TEST_CASE(avx2_agrees_with_the_scalar_loop_where_the_cpu_has_it) {
#ifdef QEDISIM_MAX_INTO_AVX2
  if (!qedisim::max_into_has_avx2()) {
    BOOST_TEST_MESSAGE("no AVX2 on this CPU: its variant not run");
    return;
  }
  BOOST_TEST(agrees_with_scalar(qedisim::max_into_avx2));
#endif
}

BOOST_AUTO_TEST_CASE(the_chosen_variant_agrees_with_the_scalar_loop) {
  BOOST_TEST(agrees_with_scalar(qedisim::max_into));
}

BOOST_AUTO_TEST_SUITE_END()
