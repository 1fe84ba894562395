// Identity of one modelled object as the checkers keep it: a key that is
// unique over the run (type, name, incarnation and allocation time; never
// a pointer, so maps iterate in the same order every run) and the text a
// finding prints ("iscsi_task s0 itt 0x05 #3", "iscsi_conn s0c0").
// Built at event time from the tracked pointer the model passes; checkers
// never dereference a stored KPtr later (its pool may be gone).
#pragma once

#include <boost/smart_ptr/intrusive_ptr.hpp>
#include <boost/smart_ptr/intrusive_ref_counter.hpp>
#include <cstdint>
#include <cstring>
#include <ostream>
#include <string>
#include <string_view>

#include "host_driver_model/kernel/slab.h"

namespace qedisim::drv {
struct ScsiCmnd;
struct IscsiConn;
struct IscsiSession;
struct IscsiTask;
}  // namespace qedisim::drv

namespace qedisim::checkers {

// The key: the object's type and its id (issued in order of first sight,
// unique over the run), and for a scsi_cmnd the issue. Ordered exactly as
// its text "<type>|<12-digit id>[|<issue>]" (text()), which it replaces:
// maps keyed by it iterate, and reports list, in the same order. Copying it
// allocates nothing.
struct ObjKey {
  const char* type = nullptr;  // a string literal; nullptr: NULL
  std::uint64_t id = 0;
  bool has_issue = false;
  std::uint64_t issue = 0;

  bool empty() const { return type == nullptr; }
  std::string text() const;  // "iscsi_task|000000000042", "" for NULL
  // Equal texts. The type is compared last: an id names one object, so
  // equal ids come with the same type pointer and strcmp never runs.
  friend bool operator==(const ObjKey& a, const ObjKey& b) {
    return a.id == b.id && a.has_issue == b.has_issue && a.issue == b.issue &&
           (a.type == b.type || (a.type && b.type && std::strcmp(a.type, b.type) == 0));
  }
  friend bool operator!=(const ObjKey& a, const ObjKey& b) { return !(a == b); }
  friend bool operator<(const ObjKey& a, const ObjKey& b) {
    // The common case inline: one type (the same literal), different ids.
    if (a.type == b.type && a.type && a.id != b.id) return a.id < b.id;
    return less_slow(a, b);
  }
  static bool less_slow(const ObjKey& a, const ObjKey& b);
};

struct ObjKeyHash {
  std::size_t operator()(const ObjKey& k) const {
    return static_cast<std::size_t>((k.id * 0x9E3779B97F4A7C15ull) ^ (k.issue + (k.has_issue ? 1 : 0)));
  }
};

// An object's description, shared by every ObjRef taken of it: copying one
// copies a reference, not the text. An object's is formatted on first use
// (a finding's text), from what ref_of saw: most are never printed.
class Desc {
 public:
  Desc() = default;                                         // ""
  Desc(std::string text) : p_(new Rep(std::move(text))) {}  // NOLINT: is its text
  Desc(const char* text) : Desc(std::string(text)) {}       // NOLINT: is its text
  // "<type>[ <name>][ #<inc>]" (the name left out when empty).
  static Desc object(const char* type, const kern::ObjectName& name, std::uint32_t inc, bool print_inc);
  // "scsi_cmnd s<session> lun<lun> tag <tag> issue <issue>"
  static Desc scsi_cmnd(std::uint64_t session, std::uint64_t lun, std::uint64_t tag, std::uint64_t issue);

  bool is_set() const { return p_ != nullptr; }
  const std::string& str() const { return p_ ? p_->text() : empty_text(); }
  operator const std::string&() const { return str(); }  // NOLINT(google-explicit-constructor)
  bool empty() const { return str().empty(); }
  std::size_t find(char c) const { return str().find(c); }
  std::string substr(std::size_t pos) const { return str().substr(pos); }
  friend bool operator==(const Desc& a, std::string_view b) { return a.str() == b; }
  friend bool operator!=(const Desc& a, std::string_view b) { return a.str() != b; }
  friend std::ostream& operator<<(std::ostream& os, const Desc& d) { return os << d.str(); }

 private:
  // The text, or what it is formatted from (kind object or scsi_cmnd).
  // Counted without atomics: the simulator runs on one thread (campaigns
  // fork processes), and a Desc is copied several times per command.
  struct Rep : boost::intrusive_ref_counter<Rep, boost::thread_unsafe_counter> {
    // From a free list of Reps released before (two are made a steady
    // command, most never printed): no malloc on the event path. The list
    // is never given back; it holds as many as were alive at once.
    static void* operator new(std::size_t size);
    static void operator delete(void* p, std::size_t size) noexcept;
    enum class Kind { text, object, scsi_cmnd } kind = Kind::text;
    explicit Rep(std::string t) : built(true), text_(std::move(t)) {}
    Rep(Kind k) : kind(k) {}  // NOLINT(google-explicit-constructor)
    const char* type = nullptr;
    kern::ObjectName name;  // object: the header's name then
    bool print_inc = false;
    std::uint64_t n[4] = {};  // object: inc; scsi_cmnd: session, lun, tag, issue
    mutable bool built = false;
    mutable std::string text_;
    const std::string& text() const {
      if (!built) build();
      return text_;
    }
    void build() const;
  };
  static const std::string& empty_text() {
    static const std::string e;
    return e;
  }
  boost::intrusive_ptr<const Rep> p_;
};

struct ObjRef {
  ObjKey key;  // unique over the run; empty for NULL
  Desc desc;   // as printed
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

template <>
struct fmt::formatter<qedisim::checkers::Desc> : fmt::formatter<std::string_view> {
  template <typename FormatContext>
  auto format(const qedisim::checkers::Desc& d, FormatContext& ctx) const {
    return fmt::formatter<std::string_view>::format(std::string_view(d.str()), ctx);
  }
};
