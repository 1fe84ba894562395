// The driver's tid bitmap and the firmware's task-context table.
#include <boost/test/unit_test.hpp>

#include "hba_model/fw_task_table.h"
#include "host_driver_model/qedi/qedi_tid.h"

using namespace qedisim;

BOOST_AUTO_TEST_SUITE(tid_table)

BOOST_AUTO_TEST_CASE(qedi_get_task_idx_hands_out_lowest_free_and_never_tid0) {
  qedi::TidBitmap b(8);
  BOOST_TEST(b.in_use() == 0u);
  BOOST_TEST(b.test(0));  // QEDI_RESERVE_TASK_ID set at probe
  BOOST_TEST(b.qedi_get_task_idx() == 1);
  BOOST_TEST(b.qedi_get_task_idx() == 2);
  BOOST_TEST(b.qedi_get_task_idx() == 3);
  BOOST_TEST(b.qedi_clear_task_idx(2));
  // A freed tid is reused by the next request: the reuse window of p09/p17.
  BOOST_TEST(b.qedi_get_task_idx() == 2);
  BOOST_TEST(b.qedi_get_task_idx() == 4);
  BOOST_TEST(b.in_use() == 4u);
}

BOOST_AUTO_TEST_CASE(pool_full_and_double_clear_are_reported) {
  qedi::TidBitmap b(4);  // tids 1..3 usable
  BOOST_TEST(b.qedi_get_task_idx() == 1);
  BOOST_TEST(b.qedi_get_task_idx() == 2);
  BOOST_TEST(b.qedi_get_task_idx() == 3);
  BOOST_TEST(b.qedi_get_task_idx() == -1);  // "FW task context pool is full"
  BOOST_TEST(b.qedi_clear_task_idx(3));
  BOOST_TEST(!b.qedi_clear_task_idx(3));  // "FW task context, already cleared"
  BOOST_TEST(b.qedi_get_task_idx() == 3);
  BOOST_TEST(!b.qedi_clear_task_idx(4));  // out of range
  BOOST_TEST(b.in_use() == 3u);
}

BOOST_AUTO_TEST_CASE(firmware_table_tracks_held_contexts_per_cid) {
  hba::FwTaskTable t(16);
  BOOST_TEST(!t.valid(0));
  BOOST_TEST(t.valid(15));
  BOOST_TEST(!t.valid(16));
  auto r = t.init(3, /*cid*/ 1, 0x01, /*itt*/ 0x10003, /*lun*/ 0, /*cq*/ 1);
  BOOST_TEST(!r.overwrote_held);
  t.init(4, 2, 0x01, 0x20004, 1, 0);
  BOOST_TEST(t.in_use() == 2u);
  BOOST_TEST(t.live_on(1) == 1u);
  t.set_state(3, hba::FwTaskState::active);
  BOOST_TEST(t.live_on(1) == 1u);
  t.set_state(3, hba::FwTaskState::cleaning);
  BOOST_TEST(t.live_on(1) == 0u);
  BOOST_TEST(t.held_on(1) == 1u);
  BOOST_TEST(t.in_use() == 2u);  // still held while the cleanup runs
  t.set_state(3, hba::FwTaskState::cleaned);
  BOOST_TEST(t.in_use() == 1u);
  BOOST_TEST(t.held_on(1) == 0u);
  BOOST_TEST(t.held_on(2) == 1u);
  BOOST_TEST(t.held_on(999) == 0u);  // a cid never seen
  BOOST_TEST(t.at(3).generation == 1u);
}

BOOST_AUTO_TEST_CASE(reinitialising_a_held_context_for_another_owner_is_flagged) {
  hba::FwTaskTable t(16);
  t.init(5, 1, 0x01, 0x10005, 0, 0);
  t.set_state(5, hba::FwTaskState::active);
  auto r = t.init(5, 1, 0x01, 0x70005, 0, 0);  // another itt while still active
  BOOST_TEST(r.overwrote_held);
  BOOST_TEST(r.previous.itt == 0x10005u);
  BOOST_TEST(t.in_use() == 1u);
  t.set_state(5, hba::FwTaskState::completed);
  r = t.init(5, 1, 0x01, 0x80005, 0, 0);  // finished: a lawful reuse
  BOOST_TEST(!r.overwrote_held);
  BOOST_TEST(t.at(5).generation == 3u);
}

BOOST_AUTO_TEST_SUITE_END()
