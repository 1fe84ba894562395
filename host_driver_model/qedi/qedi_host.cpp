#include "host_driver_model/qedi/qedi_host.h"

#include "host_driver_model/driver.h"
#include "host_driver_model/host_stack.h"

namespace qedisim::drv {

QediHost::QediHost(sc_core::sc_module_name name, const DriverParams& params, const hba::HbaParams& dev,
                   hba::HostMemory& mem)
    : sc_core::sc_module(name), iomem("iomem"), msix("msix", static_cast<unsigned>(dev.hba_cpus) + 1) {
  qedi_ = std::make_unique<Qedi>("qedi", QediParams::from(params, dev), mem, iomem, msix);
  pci_wq_ = std::make_unique<kern::Workqueue>("pci_wq", "pci/remove");
  remove_work_.fn = [this] { qedi_->qedi_shutdown(); };
}

void QediHost::connect(HostStack& stack, hba::Hba& hba) {
  driver().transport = qedi_.get();
  stack.set_link_handler([&hba](std::uint32_t session, bool up) {
    if (up)
      hba.link_up(session);
    else
      hba.link_down(session);
  });
  stack.set_hba_remove_handler([this] { hba_remove(); });
}

void QediHost::hba_remove() { pci_wq_->queue_work(remove_work_); }

}  // namespace qedisim::drv
