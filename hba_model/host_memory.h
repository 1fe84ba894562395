// Host DRAM: the rings, status blocks and task contexts the driver and the
// HBA share. The HBA reaches it only through its TLM target socket (DMA);
// the host CPU (driver model) uses the load/store accessors, as a CPU uses
// its RAM. dma_alloc_coherent hands out zeroed, aligned ranges.
#pragma once

#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <cstring>
#include <systemc>
#include <tlm>

namespace qedisim::hba {

class HostMemory : public sc_core::sc_module {
 public:
  tlm_utils::simple_target_socket<HostMemory> socket;

  // The most every dma_alloc_coherent of one run may add up to.
  static constexpr std::uint64_t kCapacity = std::uint64_t{4} << 30;

  explicit HostMemory(sc_core::sc_module_name name);
  ~HostMemory() override;
  HostMemory(const HostMemory&) = delete;
  HostMemory& operator=(const HostMemory&) = delete;

  // dma_alloc_coherent: zeroed range, never freed (the model allocates at
  // probe and ep_connect only). Address 0 is never handed out. Throws
  // std::length_error past kCapacity.
  std::uint64_t dma_alloc_coherent(std::size_t size, std::size_t align = 64);

  void read(std::uint64_t addr, void* dst, std::size_t len) const;
  void write(std::uint64_t addr, const void* src, std::size_t len);

  template <typename T>
  T load(std::uint64_t addr) const {
    T v{};
    read(addr, &v, sizeof(T));
    return v;
  }
  template <typename T>
  void store(std::uint64_t addr, const T& v) {
    write(addr, &v, sizeof(T));
  }

  std::size_t size() const { return size_; }
  // Transactions through b_transport; a DMA initiator holding a DMI grant
  // copies directly and is not counted.
  std::uint64_t dma_transactions() const { return dma_transactions_; }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  // DMI: read and write access to every allocation made so far, zero
  // latency. A grant never goes stale: the reservation never moves, and an
  // allocation only adds to it (a later one is granted at its first access).
  bool get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi);
  bool in_range(std::uint64_t addr, std::size_t len) const;

  // One address-space reservation of kCapacity bytes, readable and
  // writable (under strict overcommit: made so as allocations reach it):
  // the kernel hands out zeroed pages on first touch, so an allocation
  // costs neither a memset nor a copy, and untouched ring entries no memory.
  std::uint8_t* bytes_ = nullptr;
  std::size_t size_ = 0;       // end of the last allocation
  std::size_t committed_ = 0;  // readable and writable prefix, in kCommitStep steps
  std::uint64_t dma_transactions_ = 0;
};

}  // namespace qedisim::hba
