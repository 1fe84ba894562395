// Per-run seeds of an exploration campaign. Run i of a campaign with base
// seed S uses the (i+1)-th output of splitmix64 started at S: independent of
// how the runs are sharded or in which order workers finish them.
#pragma once

#include <cstdint>

namespace qedisim {

constexpr std::uint64_t splitmix64_mix(std::uint64_t z) {
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

constexpr std::uint64_t derive_seed(std::uint64_t base, std::uint64_t run_index) {
  return splitmix64_mix(base + (run_index + 1) * 0x9e3779b97f4a7c15ull);
}

}  // namespace qedisim
