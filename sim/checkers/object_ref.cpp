#include "sim/checkers/object_ref.h"

#include <cstring>
#include <deque>
#include <unordered_map>

#include <fmt/format.h>

#include "host_driver_model/libiscsi/iscsi_objects.h"
#include "host_driver_model/scsi/scsi_objects.h"

namespace qedisim::checkers {

namespace {
// Long-lived objects print without their incarnation, as SPEC.md's examples do.
bool prints_incarnation(const char* type) {
  return std::strcmp(type, "iscsi_conn") != 0 && std::strcmp(type, "iscsi_session") != 0 &&
         std::strcmp(type, "qedi_endpoint") != 0;
}
}  // namespace

namespace {
// Stable ids for (slot, incarnation), issued in order of first sight, so
// keys never contain an address and maps iterate the same way every run.
// A slot's address only finds its entry; a new object at an old address (a
// pool freed and another allocated in its place) is told apart by its
// allocation time. A few incarnations per slot are kept: enough for a stale
// pointer to find the object it was taken from.
class ObjectIds {
 public:
  std::uint64_t id(const kern::ObjectHeader* h, std::uint32_t inc) {
    auto& recent = slots_[h];
    const bool current = inc == h->incarnation;
    for (auto it = recent.rbegin(); it != recent.rend(); ++it)
      if (it->inc == inc && (!current || it->alloc_ns == h->alloc_ns)) return it->id;
    recent.push_back(Entry{inc, current ? h->alloc_ns : -1, next_++});
    if (recent.size() > kKeep) recent.pop_front();
    return recent.back().id;
  }

 private:
  static constexpr std::size_t kKeep = 8;
  struct Entry {
    std::uint32_t inc;
    std::int64_t alloc_ns;
    std::uint64_t id;
  };
  std::unordered_map<const kern::ObjectHeader*, std::deque<Entry>> slots_;  // lookup only
  std::uint64_t next_ = 1;
};

ObjectIds& object_ids() {
  static ObjectIds ids;
  return ids;
}
}  // namespace

ObjRef ref_of(const kern::ObjectHeader* h, std::uint32_t inc) {
  if (!h) return ObjRef{"", "NULL", "NULL"};
  ObjRef r;
  r.type = h->type;
  r.key = fmt::format("{}|{:012}", h->type, object_ids().id(h, inc));
  r.desc = h->type;
  if (!h->name.empty()) r.desc += " " + h->name;
  if (prints_incarnation(h->type)) r.desc += fmt::format(" #{}", inc);
  return r;
}

ObjRef ref_of(const kern::ObjectHeader& h) { return ref_of(&h, h.incarnation); }

ObjRef ref_of(const kern::KPtr<drv::ScsiCmnd>& cmd) {
  ObjRef r = ref_of(cmd.header(), cmd.incarnation());
  const drv::ScsiCmnd* c = cmd.raw();
  if (!c) return r;
  r.desc = fmt::format("scsi_cmnd s{} lun{} tag {} issue {}", c->session, c->lun, c->tag, c->issue);
  r.key += fmt::format("|{}", c->issue);  // a retry is a new issue, even in the same object
  return r;
}

std::string retype(const ObjRef& r, const char* type) {
  const auto sp = r.desc.find(' ');
  return sp == std::string::npos ? std::string(type) : type + r.desc.substr(sp);
}

long session_of(const kern::KPtr<drv::IscsiSession>& s) { return s.valid() ? static_cast<long>(s.raw()->id) : -1; }

long session_of(const kern::KPtr<drv::IscsiConn>& conn) {
  return conn.valid() ? session_of(conn.raw()->session) : -1;
}

long session_of(const kern::KPtr<drv::IscsiTask>& task) {
  return task.valid() ? session_of(task.raw()->conn) : -1;
}

std::string tid_name(std::uint16_t tid) { return fmt::format("tid {:#05x}", tid); }

}  // namespace qedisim::checkers
