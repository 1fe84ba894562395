// leak (SPEC.md 5.4), kmemleak-like over slab objects (pool slots excluded:
// the Pool does not report allocations). The model tags each object with
// the scope it serves (object_scope). Fires, once per object:
//  - at a quiescent point, for an operation-scoped object that was already
//    live at the previous quiescent point (nothing is outstanding at
//    quiescence, so nothing can still need it: the reachability test of
//    kmemleak reduced to the objects that serve one operation);
//  - at the end of the run, for every live object whose scope object (its
//    conn or session) has been freed.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include "host_driver_model/probes.h"
#include "sim/checkers/checker.h"
#include "sim/checkers/object_ref.h"

namespace qedisim::checkers {

class LeakChecker : public Checker {
 public:
  explicit LeakChecker(Findings& out) : Checker(InvariantId::leak, out) {}
  void allocated(const Site& at, const ObjRef& obj);
  void freed(const Site& at, const ObjRef& obj);
  void scoped(const ObjRef& obj, drv::LeakScope scope, const ObjRef& owner);
  void quiescent_point(std::int64_t now_ns);
  void end_of_run(std::int64_t now_ns);

 private:
  struct Live {
    ObjRef obj;
    Site alloc;
    bool scoped = false;
    drv::LeakScope scope = drv::LeakScope::host;
    ObjRef owner;
    std::uint64_t quiescent_seen = 0;  // quiescent points it was live at
    bool reported = false;
  };
  void fire(std::int64_t now_ns, Live& l, const std::string& why);

  std::map<std::string, Live> live_;         // by object key
  std::set<std::string> owners_;             // keys named as scope owners
  std::map<std::string, Site> owner_freed_;  // owner key -> its free
};

}  // namespace qedisim::checkers
