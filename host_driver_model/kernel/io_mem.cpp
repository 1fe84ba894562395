#include "host_driver_model/kernel/io_mem.h"

#include <stdexcept>
#include <string>

namespace qedisim::kern {

IoMem::IoMem(sc_core::sc_module_name name) : sc_module(name), socket("socket") {}

void IoMem::access(tlm::tlm_command cmd, std::uint64_t offset, void* data, unsigned len) {
  ++accesses_;
  // One payload for every access; a nested one (the model makes none: the
  // target never calls back) gets its own.
  if (trans_busy_) {
    tlm::tlm_generic_payload nested;
    transact(nested, cmd, offset, data, len);
    return;
  }
  trans_busy_ = true;
  transact(trans_, cmd, offset, data, len);
}

void IoMem::transact(tlm::tlm_generic_payload& trans, tlm::tlm_command cmd, std::uint64_t offset, void* data,
                     unsigned len) {
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  trans.set_command(cmd);
  trans.set_address(offset);
  trans.set_data_ptr(static_cast<unsigned char*>(data));
  trans.set_data_length(len);
  trans.set_streaming_width(len);
  trans.set_byte_enable_ptr(nullptr);
  trans.set_dmi_allowed(false);
  trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  socket->b_transport(trans, delay);
  if (&trans == &trans_) trans_busy_ = false;
  if (trans.is_response_error()) throw std::runtime_error("MMIO access failed at offset " + std::to_string(offset));
}

void IoMem::writel(std::uint64_t offset, std::uint32_t value) { access(tlm::TLM_WRITE_COMMAND, offset, &value, 4); }

void IoMem::writeq(std::uint64_t offset, std::uint64_t value) { access(tlm::TLM_WRITE_COMMAND, offset, &value, 8); }

std::uint32_t IoMem::readl(std::uint64_t offset) {
  std::uint32_t value = 0;
  access(tlm::TLM_READ_COMMAND, offset, &value, 4);
  return value;
}

}  // namespace qedisim::kern
