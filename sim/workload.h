// The scenario's IO streams above scsi-ml (docs/scenarios.md "Sessions and
// workload"): each stream starts at `start`, keeps `depth` commands
// outstanding and issues its next one when one comes back; a failed command
// is not retried by the stream. Stream i submits on CPU (i mod hba.cpus).
#pragma once

#include <cstdint>
#include <systemc>
#include <vector>

#include "common/activity.h"
#include "common/timeline.h"
#include "host_driver_model/host_stack.h"
#include "sim/scenario/scenario.h"

namespace qedisim {

class Workload : public sc_core::sc_module {
 public:
  Workload(sc_core::sc_module_name name, const std::vector<WorkloadStream>& streams, unsigned cpus,
           drv::HostStack& host);

  bool done() const { return finished_streams_ == streams_.size(); }
  std::uint64_t issued() const { return issued_; }
  std::uint64_t completed() const { return completed_; }
  std::uint64_t failed() const { return failed_; }
  const sc_core::sc_event& changed() const { return changed_.event(); }

 private:
  struct Stream {
    WorkloadStream spec;
    std::uint32_t index = 0;
    unsigned cpu = 0;
    std::uint64_t issued = 0;
    std::uint64_t finished = 0;
  };
  void start_due();
  void issue(Stream& s);
  void finished(Stream& s, int result);

  std::vector<Stream> streams_;
  drv::HostStack& host_;
  std::size_t next_start_ = 0;  // streams_ sorted by start time
  std::vector<std::size_t> start_order_;
  std::size_t finished_streams_ = 0;
  std::uint64_t issued_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t failed_ = 0;
  TimedEvent start_event_;  // the next stream start
  Activity changed_;
};

}  // namespace qedisim
