// The HBA as a SystemC device: BAR0 as a TLM-2.0 target socket, DMA through
// a TLM-2.0 initiator socket into HostMemory (b_transport, then DMI), MSI-X
// through a port, the iSCSI wire to the target. All behaviour is in
// Firmware; this shell gives it time (one SC_METHOD that wakes at the
// firmware's next due step) and buses.
#pragma once

#include <tlm_utils/simple_initiator_socket.h>
#include <tlm_utils/simple_target_socket.h>

#include <cstdint>
#include <memory>
#include <systemc>
#include <tlm>
#include <vector>

#include "common/activity.h"
#include "common/timeline.h"
#include "common/trace_sink.h"
#include "hba_model/firmware.h"
#include "hba_model/msix.h"
#include "hba_model/wire.h"

namespace qedisim::hba {

class Hba : public sc_core::sc_module, private HostBus, public InitiatorPort {
 public:
  tlm_utils::simple_target_socket<Hba> mmio;
  tlm_utils::simple_initiator_socket<Hba> dma;
  sc_core::sc_port<MsixIf> msix;

  Hba(sc_core::sc_module_name name, const FirmwareConfig& cfg, FailpointHook* failpoints);

  void bind_target(TargetPort& target) { fw_->set_target(&target); }
  void set_observer(FwObserver* observer) { fw_->set_observer(observer); }
  // Declares hba.fw.tids_in_use and hba.cq<v>.occupancy; recorded after every
  // firmware step while the tracer is enabled.
  void set_tracer(TraceSink* tracer);

  // link.down / link.up actions (Firmware::link_down / link_up).
  void link_down(std::uint32_t portal);
  void link_up(std::uint32_t portal);

  // InitiatorPort: a PDU from the target arrives now.
  void pdu_to_initiator(const IscsiPdu& pdu) override;

  // Read-only probes.
  const Firmware& firmware() const { return *fw_; }
  // Notified whenever the firmware ran a step, once asked for (common/activity.h).
  const sc_core::sc_event& activity() const { return activity_.event(); }

 private:
  void b_transport(tlm::tlm_generic_payload& trans, sc_core::sc_time& delay);
  void engine_method();
  void rearm();
  void trace();

  // HostBus
  void dma_read(std::uint64_t addr, void* dst, std::size_t len) override;
  void dma_write(std::uint64_t addr, const void* src, std::size_t len) override;
  void raise_msix(unsigned vector) override;
  void dma_transaction(tlm::tlm_command cmd, std::uint64_t addr, void* data, std::size_t len);
  // The host memory's backward call: a DMI grant overlapping [start, end] is void.
  void invalidate_direct_mem_ptr(sc_dt::uint64 start, sc_dt::uint64 end);

  std::unique_ptr<Firmware> fw_;
  TimedEvent wake_;
  Activity activity_;
  tlm::tlm_generic_payload dma_trans_;  // reused by dma_transaction: its constructor allocates
  bool dma_busy_ = false;
  // TLM-2.0 direct memory interface: the host memory range the DMA may reach
  // with a plain copy (granted when a transaction comes back with
  // is_dmi_allowed). An access outside it takes the b_transport path.
  tlm::tlm_dmi dmi_;
  bool dmi_valid_ = false;
  TraceSink* tracer_ = nullptr;
  TraceSink::SignalId tids_signal_ = 0;
  std::vector<TraceSink::SignalId> cq_signals_;
};

}  // namespace qedisim::hba
