// Composition helper for the testbench: the host's bus side of the HBA
// (BAR0 as IoMem, the MSI-X controller) and the qedi driver on it, plus the
// hooks that connect it to the HostStack (link.down/up to the HBA's wire,
// hba.remove to qedi_shutdown in its own process context).
//
// Wiring (sim/testbench.cpp), after the Kernel is created:
//   QediHost qh("qedi_host", params, mem);
//   qh.iomem.socket.bind(hba.mmio);  hba.msix.bind(qh.msix);
//   HostStack hs("host_stack", params, fixes, probes, qh.qedi(), sessions);
//   qh.connect(hs, hba);
#pragma once

#include <deque>
#include <memory>
#include <systemc>

#include "hba_model/hba.h"
#include "hba_model/host_memory.h"
#include "host_driver_model/kernel/io_mem.h"
#include "host_driver_model/kernel/msix_controller.h"
#include "host_driver_model/kernel/workqueue.h"
#include "host_driver_model/qedi/qedi.h"

namespace qedisim::drv {

class HostStack;

class QediHost : public sc_core::sc_module {
 public:
  kern::IoMem iomem;          // bind to Hba::mmio
  kern::MsixController msix;  // bind Hba::msix to it

  QediHost(sc_core::sc_module_name name, const DriverParams& params, const hba::HbaParams& dev, hba::HostMemory& mem);

  Qedi& qedi() { return *qedi_; }
  const Qedi& qedi() const { return *qedi_; }

  // Sets driver().transport, routes link.down/up to hba.link_down/up (the
  // firmware then raises the TCP error event) and hba.remove to qedi_shutdown.
  void connect(HostStack& stack, hba::Hba& hba);
  // hba.remove without a HostStack: queue qedi_shutdown on the "pci" context.
  void hba_remove();

 private:
  std::unique_ptr<Qedi> qedi_;
  std::unique_ptr<kern::Workqueue> pci_wq_;  // the PCI core's remove/shutdown caller
  kern::Work remove_work_{"qedi_shutdown"};
};

}  // namespace qedisim::drv
