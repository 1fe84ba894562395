// Identity of one modelled object as the checkers keep it: a key that is
// unique over the run (type, name, incarnation and allocation time; never
// a pointer, so maps iterate in the same order every run) and the text a
// finding prints ("iscsi_task s0 itt 0x05 #3", "iscsi_conn s0c0").
// Built at event time from the tracked pointer the model passes; checkers
// never dereference a stored KPtr later (its pool may be gone).
#pragma once

#include <cstdint>
#include <string>

#include "host_driver_model/kernel/slab.h"

namespace qedisim::drv {
struct ScsiCmnd;
struct IscsiConn;
struct IscsiSession;
struct IscsiTask;
}  // namespace qedisim::drv

namespace qedisim::checkers {

struct ObjRef {
  std::string key;   // unique over the run; empty for NULL
  std::string desc;  // as printed
  std::string type;  // "iscsi_task"
  bool is_null() const { return key.empty(); }
};

// From a header and the incarnation a pointer was taken in.
ObjRef ref_of(const kern::ObjectHeader* h, std::uint32_t incarnation);
ObjRef ref_of(const kern::ObjectHeader& h);
template <typename T>
ObjRef ref_of(const kern::KPtr<T>& p) {
  return ref_of(p.header(), p.incarnation());
}
// scsi_cmnd prints its identity fields: "scsi_cmnd s0 lun0 tag 17 issue 1".
ObjRef ref_of(const kern::KPtr<drv::ScsiCmnd>& cmd);

// The same object under another type word: "qedi_conn s0c0" for the
// qedi_conn embedded in iscsi_conn s0c0 (conn->dd_data).
std::string retype(const ObjRef& r, const char* type);

// Session id of a conn / task / session at event time, -1 if it cannot be
// read (NULL or ended pointer).
long session_of(const kern::KPtr<drv::IscsiConn>& conn);
long session_of(const kern::KPtr<drv::IscsiTask>& task);
long session_of(const kern::KPtr<drv::IscsiSession>& s);

// "tid 0x01a"
std::string tid_name(std::uint16_t tid);

}  // namespace qedisim::checkers
