#include "sim/workload.h"

#include <algorithm>

namespace qedisim {

Workload::Workload(sc_core::sc_module_name name, const std::vector<WorkloadStream>& streams, unsigned cpus,
                   drv::HostStack& host)
    : sc_module(name), host_(host) {
  for (std::size_t i = 0; i < streams.size(); ++i) {
    Stream s;
    s.spec = streams[i];
    s.index = static_cast<std::uint32_t>(i);
    s.cpu = static_cast<unsigned>(i % std::max(cpus, 1u));
    streams_.push_back(s);
    start_order_.push_back(i);
  }
  std::stable_sort(start_order_.begin(), start_order_.end(),
                   [&](std::size_t a, std::size_t b) { return streams_[a].spec.start < streams_[b].spec.start; });
  SC_HAS_PROCESS(Workload);
  SC_METHOD(start_due);
  sensitive << start_event_.event();
}

void Workload::start_due() {
  const std::int64_t now = sim_now_ns();
  while (next_start_ < start_order_.size() && streams_[start_order_[next_start_]].spec.start.ns <= now) {
    Stream& s = streams_[start_order_[next_start_++]];
    const std::uint64_t first = std::min<std::uint64_t>(s.spec.depth, s.spec.ops);
    for (std::uint64_t i = 0; i < first; ++i) issue(s);
  }
  if (next_start_ < start_order_.size())
    start_event_.notify_in(streams_[start_order_[next_start_]].spec.start.ns - now);
}

void Workload::issue(Stream& s) {
  drv::IoRequest rq;
  rq.stream = s.index;
  rq.op_index = s.issued++;
  rq.session = s.spec.session;
  rq.lun = s.spec.lun;
  rq.op = s.spec.op;
  rq.size = s.spec.size;
  rq.cpu = s.cpu;
  ++issued_;
  host_.submit(rq, [this, &s](int result) { finished(s, result); });
}

void Workload::finished(Stream& s, int result) {
  if (result == 0)
    ++completed_;
  else
    ++failed_;
  ++s.finished;
  if (s.issued < s.spec.ops) issue(s);
  if (s.finished == s.spec.ops) ++finished_streams_;
  changed_.note();
}

}  // namespace qedisim
