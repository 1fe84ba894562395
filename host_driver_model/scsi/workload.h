// The scenario's IO streams, as fio-like submitters above scsi-ml: each
// stream keeps `depth` commands outstanding and issues its next one when one
// comes back; a failed command is not retried by the stream. Stream i
// submits on CPU (i mod hba.cpus). Command objects are preallocated per
// stream slot and reused. Pure C++.
#pragma once

#include <cstdint>
#include <deque>
#include <functional>
#include <vector>

#include "host_driver_model/scsi/scsi_cmnd.h"
#include "sim/scenario/scenario.h"

namespace qedisim::scsi {

class Workload : public ScsiDone {
 public:
  using Submit = std::function<void(ScsiCmnd*)>;
  using Changed = std::function<void()>;

  Workload(const std::vector<WorkloadStream>& streams, unsigned cpus);

  void set_submit(Submit submit) { submit_ = std::move(submit); }
  void set_changed(Changed changed) { changed_ = std::move(changed); }

  // Starts stream i: issues its first min(depth, ops) commands.
  void start_stream(std::size_t i);
  void scsi_done(ScsiCmnd* cmd) override;

  std::size_t streams() const { return streams_.size(); }
  bool done() const { return finished_streams_ == streams_.size(); }
  std::uint64_t issued() const { return issued_; }
  std::uint64_t completed() const { return completed_; }
  std::uint64_t failed() const { return failed_; }
  std::uint64_t outstanding() const { return issued_ - completed_ - failed_; }

 private:
  struct Stream {
    WorkloadStream spec;
    unsigned cpu = 0;
    std::uint64_t issued = 0;
    std::uint64_t finished = 0;
    std::vector<ScsiCmnd> slots;  // `depth` reusable commands
  };
  void issue(Stream& s, ScsiCmnd& slot);
  void drain_ready();

  std::vector<Stream> streams_;
  Submit submit_;
  Changed changed_;
  std::size_t finished_streams_ = 0;
  std::uint64_t issued_ = 0;
  std::uint64_t completed_ = 0;
  std::uint64_t failed_ = 0;
  // Completions that arrive while submitting (a command failed at once) are
  // issued from the outer loop, so the stack never grows with `ops`.
  std::deque<ScsiCmnd*> ready_;
  bool submitting_ = false;
};

}  // namespace qedisim::scsi
