#include "host_driver_model/scsi/workload.h"

namespace qedisim::scsi {

Workload::Workload(const std::vector<WorkloadStream>& streams, unsigned cpus) {
  streams_.reserve(streams.size());
  for (std::size_t i = 0; i < streams.size(); ++i) {
    Stream s;
    s.spec = streams[i];
    s.cpu = static_cast<unsigned>(i % (cpus == 0 ? 1 : cpus));
    s.slots.resize(streams[i].depth == 0 ? 1 : streams[i].depth);
    for (auto& c : s.slots) {
      c.session = s.spec.session;
      c.lun = s.spec.lun;
      c.write = s.spec.op == OpKind::write;
      c.length = static_cast<std::uint32_t>(s.spec.size);
      c.cpu = s.cpu;
      c.stream = static_cast<std::uint32_t>(i);
    }
    if (s.spec.ops == 0) ++finished_streams_;
    streams_.push_back(std::move(s));
  }
}

void Workload::issue(Stream& s, ScsiCmnd& slot) {
  slot.op = s.issued++;
  slot.host_byte = DID_OK;
  slot.status = 0;
  ++issued_;
  ready_.push_back(&slot);
}

void Workload::start_stream(std::size_t i) {
  Stream& s = streams_.at(i);
  for (auto& slot : s.slots) {
    if (s.issued >= s.spec.ops) break;
    issue(s, slot);
  }
  drain_ready();
}

void Workload::scsi_done(ScsiCmnd* cmd) {
  Stream& s = streams_.at(cmd->stream);
  if (cmd->succeeded())
    ++completed_;
  else
    ++failed_;
  ++s.finished;
  if (s.issued < s.spec.ops)
    issue(s, *cmd);
  else if (s.finished == s.spec.ops)
    ++finished_streams_;
  drain_ready();
  if (changed_) changed_();
}

void Workload::drain_ready() {
  if (submitting_) return;
  submitting_ = true;
  while (!ready_.empty()) {
    ScsiCmnd* cmd = ready_.front();
    ready_.pop_front();
    if (submit_) submit_(cmd);
  }
  submitting_ = false;
}

}  // namespace qedisim::scsi
