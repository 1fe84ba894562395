// The HBA's BAR0 as the driver sees it after pci_iomap: writel/writeq/readl
// become TLM-2.0 b_transport calls on the HBA's MMIO socket. LT style: zero
// annotated delay, the caller never waits.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>

#include <cstdint>
#include <systemc>
#include <tlm>

namespace qedisim::kern {

class IoMem : public sc_core::sc_module {
 public:
  tlm_utils::simple_initiator_socket<IoMem> socket;

  explicit IoMem(sc_core::sc_module_name name);

  void writel(std::uint64_t offset, std::uint32_t value);
  void writeq(std::uint64_t offset, std::uint64_t value);
  std::uint32_t readl(std::uint64_t offset);

  std::uint64_t accesses() const { return accesses_; }

 private:
  void access(tlm::tlm_command cmd, std::uint64_t offset, void* data, unsigned len);
  void transact(tlm::tlm_generic_payload& trans, tlm::tlm_command cmd, std::uint64_t offset, void* data, unsigned len);
  std::uint64_t accesses_ = 0;
  tlm::tlm_generic_payload trans_;  // reused: its constructor allocates
  bool trans_busy_ = false;
};

}  // namespace qedisim::kern

// The thin first-cut driver and tests/hba name it by its old namespace.
namespace qedisim {
namespace kernel = kern;
}
