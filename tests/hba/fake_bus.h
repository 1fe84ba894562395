// Test doubles for the firmware's surroundings: host memory as a byte array
// with MSI-X recording, and a target that records what reached the wire.
#pragma once

#include <cstring>
#include <stdexcept>
#include <vector>

#include "hba_model/host_bus.h"
#include "hba_model/wire.h"

namespace qedisim::test {

class FakeBus : public hba::HostBus {
 public:
  explicit FakeBus(std::size_t bytes = 1u << 20) : mem_(bytes) {}

  void dma_read(std::uint64_t addr, void* dst, std::size_t len) override {
    check(addr, len);
    std::memcpy(dst, mem_.data() + addr, len);
  }
  void dma_write(std::uint64_t addr, const void* src, std::size_t len) override {
    check(addr, len);
    std::memcpy(mem_.data() + addr, src, len);
  }
  void raise_msix(unsigned vector) override { msix.push_back(vector); }

  // Bump allocator for test rings.
  std::uint64_t alloc(std::size_t bytes) {
    const std::uint64_t a = next_;
    next_ += (bytes + 63) / 64 * 64;
    check(a, bytes);
    return a;
  }

  std::vector<unsigned> msix;

 private:
  void check(std::uint64_t addr, std::size_t len) const {
    if (addr == 0 || addr + len > mem_.size()) throw std::out_of_range("fake bus access");
  }
  std::vector<std::uint8_t> mem_;
  std::uint64_t next_ = 0x1000;
};

class FakeTarget : public hba::TargetPort {
 public:
  void tcp_connect(std::uint16_t cid, std::uint32_t /*portal*/) override { connected.push_back(cid); }
  void tcp_close(std::uint16_t cid, bool /*abortive*/) override { closed.push_back(cid); }
  void pdu_to_target(const hba::IscsiPdu& pdu) override { pdus.push_back(pdu); }

  std::vector<std::uint16_t> connected;
  std::vector<std::uint16_t> closed;
  std::vector<hba::IscsiPdu> pdus;
};

}  // namespace qedisim::test
