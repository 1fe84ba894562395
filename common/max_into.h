// a[i] = max(a[i], b[i]) for i < n, unsigned 32-bit: the join of two vector
// clocks (data_race's handoffs, about eight a steady command over a few
// dozen contexts). SSE2 everywhere on x86-64; eight at a time where the CPU
// has AVX2, chosen once at start-up. Every variant gives the same result.
// Pure C++.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#define QEDISIM_MAX_INTO_AVX2 1
#endif
#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace qedisim {

inline void max_into_scalar(std::uint32_t* a, const std::uint32_t* b, std::size_t n) {
  for (std::size_t i = 0; i < n; ++i) a[i] = std::max(a[i], b[i]);
}

inline void max_into_sse2(std::uint32_t* a, const std::uint32_t* b, std::size_t n) {
  std::size_t i = 0;
#ifdef __SSE2__
  // Four at a time; SSE2 compares signed, so both sides are offset by 2^31.
  const __m128i bias = _mm_set1_epi32(INT32_MIN);
  for (; i + 4 <= n; i += 4) {
    const __m128i x = _mm_loadu_si128(reinterpret_cast<const __m128i*>(a + i));
    const __m128i y = _mm_loadu_si128(reinterpret_cast<const __m128i*>(b + i));
    const __m128i y_greater = _mm_cmpgt_epi32(_mm_xor_si128(y, bias), _mm_xor_si128(x, bias));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(a + i),
                     _mm_or_si128(_mm_and_si128(y_greater, y), _mm_andnot_si128(y_greater, x)));
  }
#endif
  max_into_scalar(a + i, b + i, n - i);
}

#ifdef QEDISIM_MAX_INTO_AVX2
// Only where max_into_has_avx2().
[[gnu::target("avx2")]] inline void max_into_avx2(std::uint32_t* a, const std::uint32_t* b, std::size_t n) {
  std::size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(a + i));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(b + i));
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(a + i), _mm256_max_epu32(x, y));
  }
  max_into_scalar(a + i, b + i, n - i);
}
#endif

inline bool max_into_has_avx2() {
#ifdef QEDISIM_MAX_INTO_AVX2
  __builtin_cpu_init();  // may run before the constructors that would call it
  return __builtin_cpu_supports("avx2");
#else
  return false;
#endif
}

namespace detail {
using MaxInto = void (*)(std::uint32_t*, const std::uint32_t*, std::size_t);
#ifdef QEDISIM_MAX_INTO_AVX2
inline const MaxInto max_into_best = max_into_has_avx2() ? max_into_avx2 : max_into_sse2;
#else
inline const MaxInto max_into_best = max_into_sse2;
#endif
}  // namespace detail

inline void max_into(std::uint32_t* a, const std::uint32_t* b, std::size_t n) { detail::max_into_best(a, b, n); }

}  // namespace qedisim
