#include "sim/checkers/object_ref.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <new>
#include <unordered_map>
#include <vector>

#include "host_driver_model/libiscsi/iscsi_objects.h"
#include "host_driver_model/scsi/scsi_objects.h"

namespace qedisim::checkers {

namespace {
// Long-lived objects print without their incarnation, as the examples in docs/invariants.md do.
// `type` is a type's kTypeName, a string that lives for the run: the answer
// for the last one asked about is kept (a steady run asks about iscsi_task,
// once per command).
bool prints_incarnation(const char* type) {
  static const char* last_type = nullptr;
  static bool last = false;
  if (type != last_type) {
    last = std::strcmp(type, "iscsi_conn") != 0 && std::strcmp(type, "iscsi_session") != 0 &&
           std::strcmp(type, "qedi_endpoint") != 0;
    last_type = type;
  }
  return last;
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
  // The entry of (slot, incarnation): its id, and the key and description
  // last built for it (ref_base), so an object seen again is not formatted
  // again.
  struct Entry {
    std::uint32_t inc = 0;
    std::int64_t alloc_ns = 0;
    std::uint64_t id = 0;
    const char* type = nullptr;  // what `desc` was built for
    kern::ObjectName name;
    Desc desc;
    Desc cmd_desc;                     // a scsi_cmnd's own description (ref_of(ScsiCmnd)), last taken
    std::uint64_t cmd_fields[4] = {};  // what cmd_desc was taken from
  };
  Entry& entry(const kern::ObjectHeader* h, std::uint32_t inc) {
    Recent& recent = slot(h);
    const bool current = inc == h->incarnation;
    // Mostly the object last given an entry in this slot, asked about
    // again: its entry without the search.
    if (Entry* e = recent.newest; e && e->inc == inc && (!current || e->alloc_ns == h->alloc_ns)) return *e;
    return search_or_add(recent, h, inc, current);
  }

 private:
  struct Recent;
  [[gnu::noinline]] Entry& search_or_add(Recent& recent, const kern::ObjectHeader* h, std::uint32_t inc, bool current) {
    // An incarnation above every one the slot has had an entry for has none
    // yet: a slot reused once per command skips the search at each reuse.
    if (inc <= recent.max_inc) {
      for (std::size_t i = recent.ring.size(); i-- > 0;) {  // newest first
        Entry& e = recent.at(i);
        if (e.inc == inc && (!current || e.alloc_ns == h->alloc_ns)) return e;
      }
    }
    recent.max_inc = std::max(recent.max_inc, inc);
    Entry& e = recent.push();
    e.inc = inc;
    e.alloc_ns = current ? h->alloc_ns : -1;
    e.id = next_++;
    e.type = nullptr;
    return e;
  }

  static constexpr std::size_t kKeep = 8;
  // The last kKeep entries of a slot, oldest first: grown one entry at a
  // time (most slots of a short run see one or two objects, and a forked
  // run writes every byte it builds on pages of its own), then a ring, no
  // allocation per object.
  struct Recent {
    const kern::ObjectHeader* header = nullptr;  // whose entries these are
    std::vector<Entry> ring;
    std::uint32_t max_inc = 0;  // the highest incarnation ever given an entry
    std::size_t head = 0;       // oldest, once full
    Entry* newest = nullptr;    // the entry last pushed
    Entry& at(std::size_t i) {  // i < ring.size(); head is 0 until the ring is full
      const std::size_t j = head + i;
      return ring[j < ring.size() ? j : j - ring.size()];
    }
    Entry& push() {  // the new newest entry (the oldest forgotten when full); its strings keep their buffers
      if (ring.size() < kKeep) return *(newest = &ring.emplace_back());  // may move the others: found by index
      Entry& e = ring[head];
      head = head + 1 < kKeep ? head + 1 : 0;
      return *(newest = &e);
    }
  };
  // The slot's entries: found through the header's observer_slot after the
  // first time (the table's node never moves).
  Recent& slot(const kern::ObjectHeader* h) {
    auto* known = static_cast<Recent*>(h->observer_slot);
    if (known && known->header == h) return *known;
    Recent& r = slots_[h];
    r.header = h;
    h->observer_slot = &r;
    return r;
  }
  std::unordered_map<const kern::ObjectHeader*, Recent> slots_;  // lookup only
  std::uint64_t next_ = 1;
};

// Never destroyed: no exit handler for a forked run to register
// (libiscsi.cpp, session_slab).
ObjectIds& object_ids() {
  static auto* ids = new ObjectIds();
  return *ids;
}
}  // namespace

namespace {
// Decimal, zero-padded to `width` ("{:0width}"), written at p; returns the
// end. Strings are built by hand in one allocation each: ref_of runs several
// times per command and fmt's runtime formatting dominated it.
char* put_dec(char* p, std::uint64_t v, std::size_t width = 0) {
  char buf[24];
  const std::size_t n = static_cast<std::size_t>(std::to_chars(buf, buf + sizeof buf, v).ptr - buf);
  for (std::size_t i = n; i < width; ++i) *p++ = '0';
  std::memcpy(p, buf, n);
  return p + n;
}

// The entry's generic desc, for an object seen for the first time under
// this type or name.
[[gnu::noinline]] void take_desc(ObjectIds::Entry& e, const kern::ObjectHeader* h, std::uint32_t inc) {
  e.type = h->type;
  e.name = h->name;
  e.desc = Desc::object(h->type, h->name, inc, prints_incarnation(h->type));
}

// The key (type and id) and, if wanted, the generic desc ("type name
// #inc"), taken once per object and name (ObjectIds::Entry).
ObjRef ref_base(const kern::ObjectHeader* h, std::uint32_t inc, bool with_desc, ObjectIds::Entry** entry = nullptr) {
  ObjectIds::Entry& e = object_ids().entry(h, inc);
  if (entry) *entry = &e;
  ObjRef r;
  r.key.type = h->type;
  r.key.id = e.id;
  if (with_desc) {
    if (e.type != h->type || !e.desc.is_set() || e.name != h->name) take_desc(e, h, inc);
    r.desc = e.desc;
  } else if (e.type != h->type) {
    e.type = h->type;
    e.desc = Desc();  // taken when wanted
  }
  return r;
}
}  // namespace

namespace {
// Desc::Rep's free list, threaded through the released blocks.
struct FreeRep {
  FreeRep* next;
};
FreeRep* free_reps = nullptr;
}  // namespace

// Under AddressSanitizer every Rep comes from the heap, so that a Rep used
// after its release is still caught.
#ifdef __SANITIZE_ADDRESS__
constexpr bool kReuseReps = false;
#else
constexpr bool kReuseReps = true;
#endif

void* Desc::Rep::operator new(std::size_t size) {
  static_assert(sizeof(Rep) >= sizeof(FreeRep) && alignof(Rep) >= alignof(FreeRep));
  if (kReuseReps && size == sizeof(Rep) && free_reps) {
    FreeRep* f = free_reps;
    free_reps = f->next;
    return f;
  }
  return ::operator new(size);
}

void Desc::Rep::operator delete(void* p, std::size_t size) noexcept {
  if (!kReuseReps || size != sizeof(Rep)) return ::operator delete(p);
  free_reps = new (p) FreeRep{free_reps};
}

Desc Desc::object(const char* type, const kern::ObjectName& name, std::uint32_t inc, bool print_inc) {
  boost::intrusive_ptr<Rep> rep(new Rep(Rep::Kind::object));
  rep->type = type;
  rep->name = name;
  rep->print_inc = print_inc;
  rep->n[0] = inc;
  Desc d;
  d.p_ = std::move(rep);
  return d;
}

Desc Desc::scsi_cmnd(std::uint64_t session, std::uint64_t lun, std::uint64_t tag, std::uint64_t issue) {
  boost::intrusive_ptr<Rep> rep(new Rep(Rep::Kind::scsi_cmnd));
  rep->n[0] = session;
  rep->n[1] = lun;
  rep->n[2] = tag;
  rep->n[3] = issue;
  Desc d;
  d.p_ = std::move(rep);
  return d;
}

void Desc::Rep::build() const {
  char buf[128];
  char* p = buf;
  const auto put = [&p](const char* lit, std::size_t len) {
    std::memcpy(p, lit, len);
    p += len;
  };
  if (kind == Kind::object) {
    const std::string& nm = name.str();
    text_.reserve(std::strlen(type) + 1 + nm.size() + 2 + 20);
    text_ = type;
    if (!nm.empty()) {
      text_ += ' ';
      text_ += nm;
    }
    if (print_inc) {
      put(" #", 2);
      p = put_dec(p, n[0]);
    }
  } else if (kind == Kind::scsi_cmnd) {
    put("scsi_cmnd s", 11);
    p = put_dec(p, n[0]);
    put(" lun", 4);
    p = put_dec(p, n[1]);
    put(" tag ", 5);
    p = put_dec(p, n[2]);
    put(" issue ", 7);
    p = put_dec(p, n[3]);
  }
  text_.append(buf, static_cast<std::size_t>(p - buf));
  built = true;
}

ObjRef ref_of(const kern::ObjectHeader* h, std::uint32_t inc) {
  if (!h) return ObjRef{ObjKey{}, "NULL"};
  return ref_base(h, inc, true);
}

ObjRef ref_of(const kern::ObjectHeader& h) { return ref_of(&h, h.incarnation); }

ObjRef ref_of(const kern::KPtr<drv::ScsiCmnd>& cmd) {
  const drv::ScsiCmnd* c = cmd.raw();
  if (!c) return ref_of(cmd.header(), cmd.incarnation());
  ObjectIds::Entry* e = nullptr;
  ObjRef r = ref_base(cmd.header(), cmd.incarnation(), false, &e);
  const std::uint64_t fields[4] = {static_cast<std::uint64_t>(c->session), static_cast<std::uint64_t>(c->lun),
                                   static_cast<std::uint64_t>(c->tag), static_cast<std::uint64_t>(c->issue)};
  // taken again only when a field changed
  if (!e->cmd_desc.is_set() || !std::equal(fields, fields + 4, e->cmd_fields)) {
    e->cmd_desc = Desc::scsi_cmnd(fields[0], fields[1], fields[2], fields[3]);
    std::copy(fields, fields + 4, e->cmd_fields);
  }
  r.desc = e->cmd_desc;
  // a retry is a new issue, even in the same object: key "|issue"
  r.key.has_issue = true;
  r.key.issue = c->issue;
  return r;
}

std::string ObjKey::text() const {
  if (empty()) return std::string();
  char buf[64];
  char* p = buf;
  *p++ = '|';
  p = put_dec(p, id, 12);
  if (has_issue) {
    *p++ = '|';
    p = put_dec(p, issue);
  }
  return type + std::string(buf, static_cast<std::size_t>(p - buf));
}

bool ObjKey::less_slow(const ObjKey& a, const ObjKey& b) {
  // As the texts compare: "" first, then "<type>|" byte by byte ...
  if (a.empty() || b.empty()) return a.empty() && !b.empty();
  if (a.type != b.type) {
    for (std::size_t i = 0;; ++i) {  // the type ends in '|' (type names contain none)
      const auto cx = static_cast<unsigned char>(a.type[i] ? a.type[i] : '|');
      const auto cy = static_cast<unsigned char>(b.type[i] ? b.type[i] : '|');
      if (cx != cy) return cx < cy;
      if (!a.type[i] || !b.type[i]) break;  // the same type text
    }
  }
  // ... the 12-digit ids numerically ...
  if (a.id != b.id) return a.id < b.id;
  // ... then no issue before "|<issue>", and issues as decimal text.
  if (a.has_issue != b.has_issue) return !a.has_issue;
  if (!a.has_issue || a.issue == b.issue) return false;
  char x[24], y[24];
  const auto nx = static_cast<std::size_t>(std::to_chars(x, x + sizeof x, a.issue).ptr - x);
  const auto ny = static_cast<std::size_t>(std::to_chars(y, y + sizeof y, b.issue).ptr - y);
  return std::string_view(x, nx) < std::string_view(y, ny);
}

std::string retype(const ObjRef& r, const char* type) {
  const auto sp = r.desc.find(' ');
  return sp == std::string::npos ? std::string(type) : type + r.desc.substr(sp);
}

long session_of(const kern::KPtr<drv::IscsiSession>& s) { return s.valid() ? static_cast<long>(s.raw()->id) : -1; }

long session_of(const kern::KPtr<drv::IscsiConn>& conn) { return conn.valid() ? session_of(conn.raw()->session) : -1; }

long session_of(const kern::KPtr<drv::IscsiTask>& task) { return task.valid() ? session_of(task.raw()->conn) : -1; }

std::string tid_name(std::uint16_t tid) { return fmt::format("tid {:#05x}", tid); }

}  // namespace qedisim::checkers
