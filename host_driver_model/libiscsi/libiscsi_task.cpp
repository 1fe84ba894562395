// drivers/scsi/libiscsi.c: task references and itt lookups, the part of
// libiscsi that both the real library and the qedi tests' fake libiscsi
// (tests/qedi) use as it is. The last put calls iscsi_free_task, which each
// of them defines: the real one completes the scsi_cmnd to scsi-ml, the
// fake one has no scsi-ml to complete to.
#include "host_driver_model/driver.h"
#include "host_driver_model/libiscsi/libiscsi_internal.h"

namespace qedisim::drv {

using kern::Guard;
using kern::KFunc;
using kern::KPtr;

// ---- task references ------------------------------------------------------

// iscsi_task_is_completed (p01, include/scsi/libiscsi.h): completed, not yet freed.
bool iscsi_task_is_completed(KPtr<IscsiTask> task) {
  const TaskState s = KRD(task, state);
  return s == TaskState::COMPLETED || s == TaskState::ABRT_TMF || s == TaskState::ABRT_SESS_RECOV;
}

// __iscsi_get_task
void __iscsi_get_task(KPtr<IscsiTask> task) { KWR(task, refcount)++; }

// __iscsi_put_task: caller holds back_lock.
void __iscsi_put_task(KPtr<IscsiTask> task) {
  int& ref = KWR(task, refcount);
  if (ref <= 0) {
    probes().double_free(*task.header(), task.incarnation());  // refcount_t underflow
    return;
  }
  if (--ref == 0) iscsi_free_task(task);
}

// iscsi_put_task: the session is found through task->conn (p05's race: a put after conn free).
void iscsi_put_task(KPtr<IscsiTask> task) {
  KFunc f("iscsi_put_task");
  KPtr<IscsiConn> conn = KRD(task, conn);
  KPtr<IscsiSession> session = KRD(conn, session);
  Guard back(session.raw()->back_lock);
  __iscsi_put_task(task);
}

// ---- itt lookups ----------------------------------------------------------

// iscsi_itt_to_task: the slot as it is now. Caller holds back_lock (or, pre-p10 qedi, nothing).
KPtr<IscsiTask> iscsi_itt_to_task(KPtr<IscsiConn> conn, std::uint32_t itt) {
  if (itt == RESERVED_ITT) return nullptr;
  KPtr<IscsiSession> session = KRD(conn, session);
  const auto& pool = KRD(session, cmds);
  const std::uint32_t i = get_itt(itt);
  if (!pool || i >= pool->size()) return nullptr;
  return pool->at(i);
}

// iscsi_verify_itt: the itt's age is the session's and its index in the pool.
bool iscsi_verify_itt(KPtr<IscsiConn> conn, std::uint32_t itt) {
  if (itt == RESERVED_ITT) return true;
  KPtr<IscsiSession> session = KRD(conn, session);
  const int age = static_cast<int>((itt >> ISCSI_AGE_SHIFT) & 0xf);
  if (age != KRD(session, age)) return false;
  const auto& pool = KRD(session, cmds);
  return pool && get_itt(itt) < pool->size();
}

// iscsi_itt_to_ctask: a SCSI task of the current session age.
KPtr<IscsiTask> iscsi_itt_to_ctask(KPtr<IscsiConn> conn, std::uint32_t itt) {
  if (!iscsi_verify_itt(conn, itt)) return nullptr;
  KPtr<IscsiTask> task = iscsi_itt_to_task(conn, itt);
  if (!task || !KRD(task, sc)) return nullptr;
  KPtr<ScsiCmnd> sc = KRD(task, sc);
  if (KRD(sc, scp_phase) != KRD(KRD(conn, session), age)) return nullptr;
  return task;
}

}  // namespace qedisim::drv
