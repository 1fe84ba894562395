#include "hba_model/host_memory.h"

#include <stdexcept>
#include <string>

namespace qedisim::hba {

namespace {
constexpr std::uint64_t kFirstAddress = 0x1000;  // keeps 0 an invalid DMA address
}

HostMemory::HostMemory(sc_core::sc_module_name name) : sc_module(name), socket("socket"), bytes_(kFirstAddress) {
  socket.register_b_transport(this, &HostMemory::b_transport);
}

std::uint64_t HostMemory::dma_alloc_coherent(std::size_t size, std::size_t align) {
  std::uint64_t addr = bytes_.size();
  if (align > 1) addr = (addr + align - 1) / align * align;
  bytes_.resize(addr + size, 0);
  return addr;
}

bool HostMemory::in_range(std::uint64_t addr, std::size_t len) const {
  return addr >= kFirstAddress && addr <= bytes_.size() && len <= bytes_.size() - addr;
}

void HostMemory::read(std::uint64_t addr, void* dst, std::size_t len) const {
  if (!in_range(addr, len)) throw std::out_of_range("host memory read outside allocations at " + std::to_string(addr));
  std::memcpy(dst, bytes_.data() + addr, len);
}

void HostMemory::write(std::uint64_t addr, const void* src, std::size_t len) {
  if (!in_range(addr, len)) throw std::out_of_range("host memory write outside allocations at " + std::to_string(addr));
  std::memcpy(bytes_.data() + addr, src, len);
}

void HostMemory::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& /*delay*/) {
  ++dma_transactions_;
  const std::uint64_t addr = trans.get_address();
  const std::size_t len = trans.get_data_length();
  if (trans.get_byte_enable_ptr() || trans.get_streaming_width() < len) {
    trans.set_response_status(tlm::TLM_BYTE_ENABLE_ERROR_RESPONSE);
    return;
  }
  if (!in_range(addr, len)) {
    trans.set_response_status(tlm::TLM_ADDRESS_ERROR_RESPONSE);
    return;
  }
  if (trans.is_read())
    std::memcpy(trans.get_data_ptr(), bytes_.data() + addr, len);
  else if (trans.is_write())
    std::memcpy(bytes_.data() + addr, trans.get_data_ptr(), len);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

}  // namespace qedisim::hba
