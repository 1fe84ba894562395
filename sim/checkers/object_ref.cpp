#include "sim/checkers/object_ref.h"

#include <cstring>

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

ObjRef ref_of(const kern::ObjectHeader* h, std::uint32_t inc) {
  if (!h) return ObjRef{"", "NULL", "NULL"};
  ObjRef r;
  r.type = h->type;
  r.key = fmt::format("{}|{}|{}|{}", h->type, h->name, inc, inc == h->incarnation ? h->alloc_ns : -1);
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
