#include "sim/checkers/leak.h"

#include <fmt/format.h>

namespace qedisim::checkers {

void LeakChecker::allocated(const Site& at, const ObjRef& obj) {
  live_[obj.key] = Live{obj, at, false, {}, {}, 0, false};
}

void LeakChecker::freed(const Site& at, const ObjRef& obj) {
  live_.erase(obj.key);
  if (owners_.count(obj.key)) owner_freed_[obj.key] = at;
}

void LeakChecker::scoped(const ObjRef& obj, drv::LeakScope scope, const ObjRef& owner) {
  const auto it = live_.find(obj.key);
  if (it == live_.end()) return;
  it->second.scoped = true;
  it->second.scope = scope;
  it->second.owner = owner;
  if (!owner.is_null()) owners_.insert(owner.key);
}

void LeakChecker::fire(std::int64_t now_ns, Live& l, const std::string& why) {
  l.reported = true;
  report(Site{now_ns, "checker", ""}, l.obj.desc, l.alloc.fn,
         fmt::format("allocated by {} {} never freed; {}", l.alloc.fn, where(l.alloc), why));
}

void LeakChecker::quiescent_point(std::int64_t now_ns) {
  for (auto& [key, l] : live_) {
    if (!l.scoped || l.scope != drv::LeakScope::operation || l.reported) continue;
    if (++l.quiescent_seen >= 2) fire(now_ns, l, "still live at two quiescent points with nothing outstanding");
  }
}

void LeakChecker::end_of_run(std::int64_t now_ns) {
  for (auto& [key, l] : live_) {
    if (!l.scoped || l.reported || l.owner.is_null()) continue;
    const auto f = owner_freed_.find(l.owner.key);
    if (f == owner_freed_.end()) continue;
    fire(now_ns, l, fmt::format("{} freed at {}", l.owner.desc, secs(f->second.ns)));
  }
}

}  // namespace qedisim::checkers
