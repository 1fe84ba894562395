#include "hba_model/hba.h"

#include <cstring>
#include <optional>
#include <stdexcept>
#include <string>

namespace qedisim::hba {

namespace {
// In integers: sc_time's own division goes through double (the model runs at
// 1 ns, where this is t.value()).
std::int64_t to_ns(const sc_core::sc_time& t) {
  static const sc_core::sc_time::value_type one_ns = sc_core::sc_time(1, sc_core::SC_NS).value();  // built once
  return static_cast<std::int64_t>(t.value() / one_ns);
}
}  // namespace

Hba::Hba(sc_core::sc_module_name name, const FirmwareConfig& cfg, FailpointHook* failpoints)
    : sc_module(name), mmio("mmio"), dma("dma"), msix("msix") {
  fw_ = std::make_unique<Firmware>(cfg, static_cast<HostBus&>(*this), failpoints);
  mmio.register_b_transport(this, &Hba::b_transport);
  dma.register_invalidate_direct_mem_ptr(this, &Hba::invalidate_direct_mem_ptr);
  SC_HAS_PROCESS(Hba);
  SC_METHOD(engine_method);
  sensitive << wake_.event();
  dont_initialize();
}

// LT MMIO: the access takes effect at now + annotated delay; the caller keeps
// running (no wait() on the hot path).
void Hba::b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay) {
  const std::uint64_t offset = trans.get_address();
  const unsigned len = trans.get_data_length();
  if ((len != 4 && len != 8) || trans.get_byte_enable_ptr()) {
    trans.set_response_status(tlm::TLM_BURST_ERROR_RESPONSE);
    return;
  }
  const std::int64_t at = sim_now_ns() + to_ns(delay);
  if (trans.is_write()) {
    std::uint64_t value = 0;
    std::memcpy(&value, trans.get_data_ptr(), len);
    fw_->mmio_write(offset, value, at);
    rearm();
  } else {
    const std::uint64_t value = fw_->mmio_read(offset, at);
    std::memcpy(trans.get_data_ptr(), &value, len);
  }
  trans.set_response_status(tlm::TLM_OK_RESPONSE);
}

void Hba::link_down(std::uint32_t portal) {
  fw_->link_down(portal, sim_now_ns());
  rearm();
}

void Hba::link_up(std::uint32_t portal) {
  fw_->link_up(portal, sim_now_ns());
  rearm();
}

void Hba::pdu_to_initiator(const IscsiPdu& pdu) {
  fw_->pdu_from_target(pdu, sim_now_ns());
  rearm();
}

void Hba::engine_method() {
  fw_->run_due(sim_now_ns());
  rearm();
}

void Hba::set_tracer(TraceSink* tracer) {
  tracer_ = tracer && tracer->enabled() ? tracer : nullptr;
  if (!tracer_) return;
  tids_signal_ = tracer_->declare_int("hba.fw", "tids_in_use", 16);
  for (unsigned v = 0; v < fw_->vectors(); ++v)
    cq_signals_.push_back(tracer_->declare_int("hba.cq" + std::to_string(v), "occupancy", 32));
}

void Hba::trace() {
  const std::int64_t now = sim_now_ns();
  tracer_->set(tids_signal_, now, fw_->tids_in_use());
  for (unsigned v = 0; v < cq_signals_.size(); ++v) tracer_->set(cq_signals_[v], now, fw_->cq_occupancy(v));
}

void Hba::rearm() {
  if (tracer_) trace();
  activity_.note();
  const auto next = fw_->next_due();
  if (!next) return;
  // notify_in() keeps the earlier of a pending and a new notification; a
  // step already due (no delay left) is a delta notification.
  wake_.notify_in(*next - sim_now_ns());
}

void Hba::dma_transaction(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t len) {
  // Inside a DMI grant: the copy the target's b_transport would make.
  if (dmi_valid_ && addr >= dmi_.get_start_address() && addr <= dmi_.get_end_address() &&
      len <= dmi_.get_end_address() - addr + 1) {
    unsigned char* at = dmi_.get_dmi_ptr() + (addr - dmi_.get_start_address());
    if (cmd == tlm::TLM_READ_COMMAND && dmi_.is_read_allowed()) {
      std::memcpy(data, at, len);
      return;
    }
    if (cmd == tlm::TLM_WRITE_COMMAND && dmi_.is_write_allowed()) {
      std::memcpy(at, data, len);
      return;
    }
  }
  // One payload for every DMA; a nested one (the model makes none: host
  // memory never calls back) gets its own.
  std::optional<tlm::tlm_generic_payload> nested;
  const bool outer = !dma_busy_;
  tlm::tlm_generic_payload& trans = outer ? dma_trans_ : nested.emplace();
  dma_busy_ = true;
  sc_core::sc_time delay = sc_core::SC_ZERO_TIME;
  trans.set_command(cmd);
  trans.set_address(addr);
  trans.set_data_ptr(static_cast<unsigned char*>(data));
  trans.set_data_length(static_cast<unsigned>(len));
  trans.set_streaming_width(static_cast<unsigned>(len));
  trans.set_byte_enable_ptr(nullptr);
  trans.set_dmi_allowed(false);
  trans.set_response_status(tlm::TLM_INCOMPLETE_RESPONSE);
  dma->b_transport(trans, delay);
  if (outer) dma_busy_ = false;
  if (trans.is_response_error())
    throw std::runtime_error("HBA DMA failed at 0x" + std::to_string(addr) + ": " + trans.get_response_string());
  // The target offers DMI for this address: ask for the grant (the range
  // around it the target chooses) and copy directly from now on.
  if (trans.is_dmi_allowed()) {
    tlm::tlm_dmi grant;
    if (dma->get_direct_mem_ptr(trans, grant) && grant.get_dmi_ptr()) {
      dmi_ = grant;
      dmi_valid_ = true;
    }
  }
}

void Hba::invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end) {
  if (dmi_valid_ && start <= dmi_.get_end_address() && end >= dmi_.get_start_address()) dmi_valid_ = false;
}

void Hba::dma_read(std::uint64_t addr, void* dst, std::size_t len) {
  dma_transaction(tlm::TLM_READ_COMMAND, addr, dst, len);
}

void Hba::dma_write(std::uint64_t addr, const void* src, std::size_t len) {
  dma_transaction(tlm::TLM_WRITE_COMMAND, addr, const_cast<void*>(src), len);
}

void Hba::raise_msix(unsigned vector) { msix->msix_raise(vector); }

}  // namespace qedisim::hba
