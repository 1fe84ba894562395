#include "hba_model/host_memory.h"

#include <fmt/format.h>
#include <sys/mman.h>

#include <algorithm>
#include <new>
#include <stdexcept>
#include <string>

namespace qedisim::hba {

namespace {
constexpr std::uint64_t kFirstAddress = 0x1000;  // keeps 0 an invalid DMA address
// Opened a MiB at a time: one mprotect (a split of the reservation) for the
// queues of a whole session instead of one per ring. Pages never touched
// cost nothing (MAP_NORESERVE).
constexpr std::size_t kCommitStep = std::size_t{1} << 20;
}  // namespace

HostMemory::HostMemory(sc_core::sc_module_name name) : sc_module(name), socket("socket"), size_(kFirstAddress) {
  // Readable and writable at once where the kernel does not charge a
  // reservation (MAP_NORESERVE, the default overcommit): the process's
  // mappings then stay as they are while it simulates, as a campaign
  // worker's restore point needs (sim/explore/restore_point.h). Under
  // strict overcommit, reserved without access (no commit charge) and
  // opened by mprotect.
  void* p = mmap(nullptr, kCapacity, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p != MAP_FAILED) {
    committed_ = kCapacity;
  } else {
    p = mmap(nullptr, kCapacity, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw std::bad_alloc();
  }
  bytes_ = static_cast<std::uint8_t*>(p);
  socket.register_b_transport(this, &HostMemory::b_transport);
  socket.register_get_direct_mem_ptr(this, &HostMemory::get_direct_mem_ptr);
}

HostMemory::~HostMemory() { munmap(bytes_, kCapacity); }

std::uint64_t HostMemory::dma_alloc_coherent(std::size_t size, std::size_t align) {
  std::uint64_t addr = size_;
  if (align > 1) addr = (addr + align - 1) / align * align;
  if (addr > kCapacity || size > kCapacity - addr)
    throw std::length_error(
        fmt::format("host memory: dma_alloc_coherent of {} bytes exceeds the model's {} GiB of DMA "
                    "memory (lower hba.cq_depth, hba.sq_depth, hba.tids or sessions)",
                    size, kCapacity >> 30));
  const std::size_t end = addr + size;
  if (end > committed_) {
    const std::size_t to = std::min<std::size_t>(kCapacity, (end + kCommitStep - 1) / kCommitStep * kCommitStep);
    if (mprotect(bytes_ + committed_, to - committed_, PROT_READ | PROT_WRITE) != 0) throw std::bad_alloc();
    committed_ = to;
  }
  size_ = end;
  return addr;
}

bool HostMemory::in_range(std::uint64_t addr, std::size_t len) const {
  return addr >= kFirstAddress && addr <= size_ && len <= size_ - addr;
}

void HostMemory::read(std::uint64_t addr, void* dst, std::size_t len) const {
  if (!in_range(addr, len)) throw std::out_of_range("host memory read outside allocations at " + std::to_string(addr));
  std::memcpy(dst, bytes_ + addr, len);
}

void HostMemory::write(std::uint64_t addr, const void* src, std::size_t len) {
  if (!in_range(addr, len)) throw std::out_of_range("host memory write outside allocations at " + std::to_string(addr));
  std::memcpy(bytes_ + addr, src, len);
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
    std::memcpy(trans.get_data_ptr(), bytes_ + addr, len);
  else if (trans.is_write())
    std::memcpy(bytes_ + addr, trans.get_data_ptr(), len);
  trans.set_dmi_allowed(true);
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

bool HostMemory::get_direct_mem_ptr(tlm::tlm_generic_payload& trans, tlm::tlm_dmi& dmi) {
  if (!in_range(trans.get_address(), 1)) return false;  // nothing allocated there
  dmi.allow_read_write();
  dmi.set_start_address(kFirstAddress);
  dmi.set_end_address(size_ - 1);
  dmi.set_dmi_ptr(bytes_ + kFirstAddress);
  dmi.set_read_latency(sc_core::SC_ZERO_TIME);
  dmi.set_write_latency(sc_core::SC_ZERO_TIME);
  return true;
}

}  // namespace qedisim::hba
