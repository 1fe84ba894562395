#include "host_driver_model/host.h"

#include <algorithm>
#include <numeric>

namespace qedisim {

Host::Host(sc_core::sc_module_name name, const ModelParams& params, const std::vector<SessionSpec>& sessions,
           const std::vector<WorkloadStream>& workload, hba::HostMemory& mem)
    : sc_module(name),
      iomem("iomem"),
      msix("msix", static_cast<unsigned>(params.hba_cpus) + 1),
      sessions_(sessions.size()),
      workload_(workload, static_cast<unsigned>(params.hba_cpus)) {
  for (const auto& w : workload) stream_start_.push_back(w.start);
  qedi_ = std::make_unique<qedi::QediCtx>(qedi::QediParams::from(params), mem, iomem, msix);
  qedi_->set_scsi_done(&workload_);
  workload_.set_submit([this](scsi::ScsiCmnd* sc) { qedi_->iscsi_queuecommand(sc); });
  workload_.set_changed([this] { activity_.notify(sc_core::SC_ZERO_TIME); });
  SC_HAS_PROCESS(Host);
  SC_THREAD(iscsid_main);
}

// iscsid: probe once, then per session ep_connect + login (open-iscsi order),
// then each stream at its start time (not before its session logged in).
void Host::iscsid_main() {
  qedi_->qedi_probe();
  for (std::uint32_t s = 0; s < sessions_; ++s) {
    auto& conn = qedi_->iscsi_session_create(s);
    if (qedi_->qedi_ep_connect(conn) && qedi_->iscsi_login(conn)) ++logged_in_;
  }
  setup_done_ = true;
  std::vector<std::size_t> order(stream_start_.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [this](std::size_t a, std::size_t b) { return stream_start_[a] < stream_start_[b]; });
  for (std::size_t i : order) {
    const sc_core::sc_time start(static_cast<double>(stream_start_[i].ns), sc_core::SC_NS);
    if (start > sc_core::sc_time_stamp()) sc_core::wait(start - sc_core::sc_time_stamp());
    workload_.start_stream(i);
  }
  activity_.notify(sc_core::SC_ZERO_TIME);
}

}  // namespace qedisim
