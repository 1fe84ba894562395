// Index arithmetic shared by every ring (SQ, CQ, SPQ, event ring): free-running
// 32-bit producer and consumer indices, slot = index mod size. With
// free-running indices a ring can hold `size` entries and full and empty
// differ without a spare slot. Pure, so it unit-tests without SystemC.
#pragma once

#include <cstdint>

namespace qedisim::hsi {

struct RingIndex {
  static constexpr std::uint32_t slot(std::uint32_t index, std::uint32_t size) { return index % size; }
  // Wraps correctly across 2^32 as long as used never exceeds size.
  static constexpr std::uint32_t used(std::uint32_t prod, std::uint32_t cons) { return prod - cons; }
  static constexpr bool empty(std::uint32_t prod, std::uint32_t cons) { return prod == cons; }
  static constexpr bool full(std::uint32_t prod, std::uint32_t cons, std::uint32_t size) {
    return used(prod, cons) >= size;
  }
  static constexpr std::uint32_t room(std::uint32_t prod, std::uint32_t cons, std::uint32_t size) {
    return full(prod, cons, size) ? 0 : size - used(prod, cons);
  }
};

}  // namespace qedisim::hsi
