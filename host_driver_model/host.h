// The host side of one simulation: the HBA's BAR as IoMem, the MSI-X
// controller, the qedi driver and the workload, plus the iscsid thread that
// probes, connects and logs in every session and then starts the streams.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <systemc>

#include "hba_model/host_memory.h"
#include "host_driver_model/kernel/io_mem.h"
#include "host_driver_model/kernel/msix_controller.h"
#include "host_driver_model/qedi/thin/qedi_thin.h"
#include "host_driver_model/scsi/workload.h"
#include "sim/scenario/scenario.h"

namespace qedisim {

class Host : public sc_core::sc_module {
 public:
  kernel::IoMem iomem;          // bind to the HBA's mmio socket
  kernel::MsixController msix;  // bind the HBA's msix port to it

  Host(sc_core::sc_module_name name, const ModelParams& params, const std::vector<SessionSpec>& sessions,
       const std::vector<WorkloadStream>& workload, hba::HostMemory& mem);

  const qedi::QediCtx& qedi() const { return *qedi_; }
  const scsi::Workload& workload() const { return workload_; }
  std::uint32_t sessions_logged_in() const { return logged_in_; }
  // Every stream done and the driver holds nothing.
  bool quiescent() const { return setup_done_ && workload_.done() && qedi_->idle(); }
  const sc_core::sc_event& activity() const { return activity_; }

 private:
  void iscsid_main();

  std::size_t sessions_;
  std::vector<Duration> stream_start_;
  std::unique_ptr<qedi::QediCtx> qedi_;
  scsi::Workload workload_;
  bool setup_done_ = false;
  std::uint32_t logged_in_ = 0;
  sc_core::sc_event activity_;
};

}  // namespace qedisim
