// One completion ring with its status block and MSI-X vector: a CQ (IscsiCqe)
// per fast-path vector, the event ring (EventRingEntry) on the slow-path
// vector. The firmware writes an entry at the producer index, publishes the
// new producer in the status block and raises the vector unless the driver
// has masked it through the IGU. When the ring is full, entries are held in
// order until the driver's consumer index write-back frees room
// (back-pressure, as QEMU's nvme holds completions). Pure C++ over HostBus.
#pragma once

#include <cstdint>
#include <deque>

#include "hba_model/host_bus.h"
#include "hba_model/hsi/qedi_hsi.h"
#include "hba_model/hsi/regs.h"
#include "hba_model/hsi/ring.h"

namespace qedisim::hba {

template <typename Entry>
class CompletionRing {
 public:
  CompletionRing(HostBus& bus, unsigned vector) : bus_(&bus), vector_(vector) {}

  void set_base(std::uint64_t addr) { base_ = addr; }
  void set_size(std::uint32_t entries) {
    size_ = entries;
    drain();
  }
  void set_sb_addr(std::uint64_t addr) { sb_addr_ = addr; }
  bool configured() const { return base_ != 0 && size_ != 0 && sb_addr_ != 0; }

  // Entries wait in order behind held ones, so a full ring never reorders.
  void post(const Entry& e) {
    if (!held_.empty() || !configured() || hsi::RingIndex::full(prod_, cons_, size_)) {
      held_.push_back(e);
      ++full_stalls_;
      return;
    }
    write(e);
    publish();
  }

  // The driver's consumer index write-back (REG_CQ_CONS / REG_EQ_CONS).
  void set_cons(std::uint32_t cons) {
    cons_ = cons;
    drain();
  }

  // qed_sb_ack: bit 31 enables the vector; the low 16 bits are the sb_index
  // the driver last saw. Enabling with a stale index re-raises at once, so an
  // update that raced with the handler is not lost.
  void igu_ack(std::uint32_t value) {
    enabled_ = (value & hsi::IGU_INT_ENABLE) != 0;
    if (enabled_ && (value & 0xffffu) != (sb_index_ & 0xffffu)) bus_->raise_msix(vector_);
  }

  std::uint32_t prod() const { return prod_; }
  std::uint32_t cons() const { return cons_; }
  std::uint32_t size() const { return size_; }
  std::uint32_t sb_index() const { return sb_index_; }
  bool irq_enabled() const { return enabled_; }
  std::size_t held() const { return held_.size(); }
  // Entries written and not yet consumed, plus held ones.
  std::uint64_t occupancy() const { return hsi::RingIndex::used(prod_, cons_) + held_.size(); }
  std::uint64_t posted() const { return posted_; }
  std::uint64_t full_stalls() const { return full_stalls_; }

 private:
  void write(const Entry& e) {
    bus_->dma_store(base_ + static_cast<std::uint64_t>(hsi::RingIndex::slot(prod_, size_)) * sizeof(Entry), e);
    ++prod_;
    ++posted_;
  }
  void publish() {
    ++sb_index_;
    bus_->dma_store(sb_addr_, hsi::StatusBlock{prod_, sb_index_});
    if (enabled_) bus_->raise_msix(vector_);
  }
  void drain() {
    if (!configured()) return;
    bool wrote = false;
    while (!held_.empty() && !hsi::RingIndex::full(prod_, cons_, size_)) {
      write(held_.front());
      held_.pop_front();
      wrote = true;
    }
    if (wrote) publish();
  }

  HostBus* bus_;
  unsigned vector_;
  std::uint64_t base_ = 0;
  std::uint32_t size_ = 0;
  std::uint64_t sb_addr_ = 0;
  std::uint32_t prod_ = 0;
  std::uint32_t cons_ = 0;
  std::uint32_t sb_index_ = 0;
  bool enabled_ = true;
  std::deque<Entry> held_;
  std::uint64_t posted_ = 0;
  std::uint64_t full_stalls_ = 0;
};

}  // namespace qedisim::hba
