// Ring index arithmetic and the completion ring: wrap-around, full-ring
// back-pressure, IGU masking.
#include <boost/test/unit_test.hpp>

#include "fake_bus.h"
#include "hba_model/completion_ring.h"
#include "hba_model/hsi/ring.h"

using namespace qedisim;
using hsi::IscsiCqe;
using hsi::RingIndex;

namespace {
IscsiCqe cqe_with_itt(std::uint32_t itt) {
  IscsiCqe c;
  c.cqe_type = hsi::ISCSI_CQE_TYPE_SOLICITED;
  c.itt = itt;
  return c;
}

struct Ring {
  test::FakeBus bus;
  std::uint64_t base = bus.alloc(4 * sizeof(IscsiCqe));
  std::uint64_t sb = bus.alloc(sizeof(hsi::StatusBlock));
  hba::CompletionRing<IscsiCqe> cq{bus, 1};
  Ring() {
    cq.set_base(base);
    cq.set_sb_addr(sb);
    cq.set_size(4);
  }
  IscsiCqe slot(std::uint32_t i) { return bus.dma_load<IscsiCqe>(base + i * sizeof(IscsiCqe)); }
  hsi::StatusBlock status() { return bus.dma_load<hsi::StatusBlock>(sb); }
};
}  // namespace

BOOST_AUTO_TEST_SUITE(cq_ring)

BOOST_AUTO_TEST_CASE(free_running_indices_wrap_at_2_pow_32) {
  const std::uint32_t prod = 2, cons = 0xfffffffeu;  // 4 entries across the wrap
  BOOST_TEST(RingIndex::used(prod, cons) == 4u);
  BOOST_TEST(RingIndex::full(prod, cons, 4));
  BOOST_TEST(RingIndex::room(prod, cons, 8) == 4u);
  BOOST_TEST(RingIndex::slot(0xffffffffu, 4) == 3u);
  BOOST_TEST(RingIndex::empty(7, 7));
}

BOOST_AUTO_TEST_CASE(entries_wrap_around_the_ring) {
  Ring r;
  for (std::uint32_t i = 0; i < 3; ++i) r.cq.post(cqe_with_itt(i));
  r.cq.set_cons(3);
  for (std::uint32_t i = 3; i < 6; ++i) r.cq.post(cqe_with_itt(i));
  BOOST_TEST(r.status().cq_prod == 6u);
  BOOST_TEST(r.slot(3).itt == 3u);
  BOOST_TEST(r.slot(0).itt == 4u);  // wrapped
  BOOST_TEST(r.slot(1).itt == 5u);
  BOOST_TEST(r.cq.held() == 0u);
  BOOST_TEST(r.bus.msix.size() == 6u);
  BOOST_TEST(r.bus.msix.front() == 1u);
}

BOOST_AUTO_TEST_CASE(full_ring_holds_entries_until_the_driver_frees_room) {
  Ring r;
  for (std::uint32_t i = 0; i < 7; ++i) r.cq.post(cqe_with_itt(i));
  BOOST_TEST(r.status().cq_prod == 4u);
  BOOST_TEST(r.cq.held() == 3u);
  BOOST_TEST(r.cq.occupancy() == 7u);
  BOOST_TEST(r.cq.full_stalls() == 3u);
  r.cq.set_cons(2);  // CI write-back frees two slots
  BOOST_TEST(r.status().cq_prod == 6u);
  BOOST_TEST(r.slot(0).itt == 4u);
  BOOST_TEST(r.slot(1).itt == 5u);
  BOOST_TEST(r.cq.held() == 1u);
  r.cq.post(cqe_with_itt(7));  // queues behind the held one, never overtakes
  BOOST_TEST(r.cq.held() == 2u);
  r.cq.set_cons(6);
  BOOST_TEST(r.status().cq_prod == 8u);
  BOOST_TEST(r.slot(2).itt == 6u);
  BOOST_TEST(r.slot(3).itt == 7u);
  BOOST_TEST(r.cq.held() == 0u);
}

BOOST_AUTO_TEST_CASE(masked_vector_raises_again_when_enabled_with_a_stale_index) {
  Ring r;
  r.cq.igu_ack(0);  // qed_sb_ack(IGU_INT_DISABLE)
  r.cq.post(cqe_with_itt(1));
  BOOST_TEST(r.bus.msix.empty());
  const std::uint32_t seen = r.status().sb_index;
  r.cq.post(cqe_with_itt(2));  // arrives while the handler runs
  r.cq.igu_ack(hsi::IGU_INT_ENABLE | seen);
  BOOST_TEST(r.bus.msix.size() == 1u);
  r.cq.igu_ack(hsi::IGU_INT_ENABLE | r.status().sb_index);  // up to date: no raise
  BOOST_TEST(r.bus.msix.size() == 1u);
}

BOOST_AUTO_TEST_SUITE_END()
