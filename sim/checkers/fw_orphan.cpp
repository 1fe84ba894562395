#include "sim/checkers/fw_orphan.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void FwOrphanChecker::wqe_posted(const Site& at, std::uint16_t cid, std::uint16_t tid, const ObjRef& task,
                                 std::uint32_t pdu_itt, bool cleanup) {
  Post p{cid, tid, task.key, pdu_itt, cleanup, at};
  unfetched_[cid].push_back(p);
  if (!cleanup && !task.is_null()) last_post_[task.key] = p;
}

void FwOrphanChecker::fw_fetched(std::uint16_t cid, std::uint16_t tid, bool cleanup) {
  const auto it = unfetched_.find(cid);
  if (it == unfetched_.end()) return;
  auto& q = it->second;
  // The firmware fetches in SQ order: everything before the match was fetched too.
  for (auto p = q.begin(); p != q.end(); ++p) {
    if (p->tid == tid && p->cleanup == cleanup) {
      q.erase(q.begin(), std::next(p));
      return;
    }
  }
}

void FwOrphanChecker::sq_discarded(std::uint16_t cid) { unfetched_.erase(cid); }

void FwOrphanChecker::task_end(const Site& at, const ObjRef& task, std::string_view how, const TidShadow& tids,
                               const hba::FwTaskTable* table) {
  if (task.is_null() || reported_.count(task.key)) return;
  const Post* const post = last_post_.find(task.key);
  std::string state;
  std::uint16_t tid = 0;
  if (post) {
    tid = post->tid;
    const auto q = unfetched_.find(post->cid);
    if (q != unfetched_.end())
      for (const Post& p : q->second)
        if (p.task_key == task.key && !p.cleanup) state = "WQE not yet fetched from the SQ";
    if (state.empty() && table && table->valid(tid)) {
      const hba::FwTask& t = table->at(tid);
      if (hba::fw_task_live(t.state) && t.cid == post->cid && t.itt == post->pdu_itt) state = hba::to_string(t.state);
    }
  } else if (table && tids.tid_of(task, tid) && table->valid(tid)) {
    // No WQE record: judge by the tid the task's qedi_cmd holds.
    const TidEntry* e = tids.find(tid);
    const hba::FwTask& t = table->at(tid);
    if (e && e->has_owner && e->owner.key == task.key && hba::fw_task_live(t.state)) state = hba::to_string(t.state);
  }
  if (state.empty()) return;
  reported_.insert(task.key);
  std::string msg = fmt::format("{} while firmware still runs {} ({}", how, tid_name(tid), state);
  if (post) msg += fmt::format(", posted by {}", by(post->at));
  msg += ")";
  report(at, task.desc, at.fn, std::move(msg));
}

void FwOrphanChecker::forget(const ObjRef& task) {
  last_post_.erase(task.key);
  reported_.erase(task.key);
}

}  // namespace qedisim::checkers
