// What the firmware sees of the platform: DMA into host memory and the MSI-X
// lines. The Hba shell implements it over its TLM initiator socket and MSI-X
// port; unit tests implement it over a plain byte array.
#pragma once

#include <cstddef>
#include <cstdint>

namespace qedisim::hba {

class HostBus {
 public:
  virtual ~HostBus() = default;
  virtual void dma_read(std::uint64_t addr, void* dst, std::size_t len) = 0;
  virtual void dma_write(std::uint64_t addr, const void* src, std::size_t len) = 0;
  virtual void raise_msix(unsigned vector) = 0;

  template <typename T>
  T dma_load(std::uint64_t addr) {
    T v{};
    dma_read(addr, &v, sizeof(T));
    return v;
  }
  template <typename T>
  void dma_store(std::uint64_t addr, const T& v) {
    dma_write(addr, &v, sizeof(T));
  }
};

}  // namespace qedisim::hba
