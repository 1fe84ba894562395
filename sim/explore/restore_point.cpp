#include "sim/explore/restore_point.h"

#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <malloc.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "sim/explore/instrumented.h"

namespace qedisim {

namespace {

const char* why_not = "";

#if !QEDISIM_SANITIZED

bool fail(const char* why) {
  why_not = why;
  return false;
}

// PAGEMAP_SCAN (include/uapi/linux/fs.h, Linux 6.7): bookworm's headers are
// Linux 6.1's, so its ABI is spelled out here; the kernel says at run time
// whether it has it.
struct PageRegion {
  std::uint64_t start, end, categories;
};
struct PmScanArg {
  std::uint64_t size, flags, start, end, walk_end, vec, vec_len, max_pages, category_inverted, category_mask,
      category_anyof_mask, return_mask;
};
constexpr unsigned long kPagemapScan = _IOWR('f', 16, PmScanArg);
constexpr std::uint64_t kWpMatching = 1;  // PM_SCAN_WP_MATCHING
constexpr std::uint64_t kWpAllowed = 1 << 0, kWritten = 1 << 1, kPresent = 1 << 3, kSwapped = 1 << 4;
constexpr std::uint64_t kFeatureWpAsync = 1 << 15;  // UFFD_FEATURE_WP_ASYNC, Linux 6.7
constexpr int kUserModeOnly = 1;                    // UFFD_USER_MODE_ONLY

constexpr std::uint64_t kPage = 4096;
constexpr std::size_t kMaxVmas = 4096;
constexpr std::size_t kMaxSaved = 1 << 16;
constexpr std::size_t kVecLen = 4096;
constexpr std::size_t kMapsText = 1 << 20;
constexpr std::size_t kAltStack = std::size_t{256} * 1024;
constexpr long kProtectEvery = 32;  // restores between two protections of every written page

// An address from the kernel's answers, as a pointer: the trade of this file.
void* to_ptr(std::uint64_t address) {
  return reinterpret_cast<void*>(address);  // NOLINT(performance-no-int-to-ptr)
}

struct Vma {
  std::uint64_t begin, end;
  bool file;  // a file's pages: dropped, not cleared, when the point had no copy
};
struct Range {  // a mapping at the point
  std::uint64_t begin, end;
};
struct Saved {  // pages present at the point; their bytes at store + offset
  std::uint64_t begin, end, offset;
};

// Everything the restore reads or writes, in a mapping of its own that is
// never write-protected nor put back: the contexts, the copies' index, the
// scan's answers, the alternate stack. ctl itself is in .bss and is put
// back like the rest, to the same value.
struct Control {
  ucontext_t point;     // where take_restore_point() returns again
  ucontext_t restorer;  // restore_memory(), on alt_stack
  ucontext_t leaving;   // the run's last context, never resumed
  long passes;
  bool ready;
  int pagemap, uffd, lowest_free_fd;
  std::uint64_t lo, hi, brk;
  std::size_t vma_count, saved_count, maps_len;
  char* store;
  std::size_t store_size;
  Vma vmas[kMaxVmas];
  Saved saved[kMaxSaved];
  Range ranges[kMaxVmas];
  std::size_t range_count;
  PageRegion vec[kVecLen];
  char maps[kMapsText];
  char maps_now[kMapsText];
  alignas(64) char alt_stack[kAltStack];
};
Control* ctl = nullptr;

// The whole of a /proc file; cap when it does not fit or cannot be read.
std::size_t read_text(const char* path, char* buf, std::size_t cap) {
  const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
  if (fd < 0) return cap;
  std::size_t n = 0;
  while (n < cap) {
    const ssize_t got = ::read(fd, buf + n, cap - n);
    if (got < 0 && errno == EINTR) continue;
    if (got < 0) n = cap;
    if (got <= 0) break;
    n += static_cast<std::size_t>(got);
  }
  ::close(fd);
  return n;
}

int lowest_free_fd() {
  const int fd = ::dup(ctl->pagemap);
  if (fd >= 0) ::close(fd);
  return fd;
}

// One PAGEMAP_SCAN over [start, end) of the registered pages with `mask`:
// the regions found (at most kVecLen, ctl->vec) or -1; *walk_end: where it
// stopped.
long scan(std::uint64_t start, std::uint64_t end, std::uint64_t flags, std::uint64_t mask, std::uint64_t anyof,
          std::uint64_t returned, std::uint64_t* walk_end) {
  PmScanArg a{};
  a.size = sizeof a;
  a.flags = flags;
  a.start = start;
  a.end = end;
  a.vec = returned ? reinterpret_cast<std::uint64_t>(ctl->vec) : 0;
  a.vec_len = returned ? kVecLen : 0;
  a.category_mask = mask;
  a.category_anyof_mask = anyof;
  a.return_mask = returned;
  const long n = ::ioctl(ctl->pagemap, kPagemapScan, &a);
  if (walk_end) *walk_end = a.walk_end;
  return n;
}

std::uint64_t hex(const char*& p) {
  std::uint64_t v = 0;
  for (;; ++p) {
    const char c = *p;
    if (c >= '0' && c <= '9')
      v = v * 16 + static_cast<std::uint64_t>(c - '0');
    else if (c >= 'a' && c <= 'f')
      v = v * 16 + static_cast<std::uint64_t>(c - 'a' + 10);
    else
      return v;
  }
}

// The next line of /proc/self/maps' text.
const char* line_end(const char* p, const char* end) {
  const void* nl = std::memchr(p, '\n', static_cast<std::size_t>(end - p));
  return nl ? static_cast<const char*>(nl) + 1 : end;
}

// A line of /proc/self/maps: its address range, and where the rest (the
// permissions first) starts.
struct MapsLine {
  std::uint64_t begin, end;
  const char* perms;
};
MapsLine parse_line(const char* line) {
  MapsLine l{};
  const char* q = line;
  l.begin = hex(q);
  ++q;  // '-'
  l.end = hex(q);
  l.perms = q + 1;
  return l;
}

// Whether a line of /proc/self/maps (past its address range, at the
// permissions) is an anonymous private mapping with no name.
bool anonymous_private(const char* perms) {
  if (perms[3] != 'p') return false;
  const char* q = perms + 5;
  if (hex(q) != 0 || std::strncmp(q, " 00:00 0", 8) != 0) return false;
  for (q += 8; *q == ' '; ++q) {
  }
  return *q == '\n' || *q == '\0';
}

// The stack is grown before the point: a run that grew it would change the
// mappings, and end its worker.
__attribute__((noinline)) void grow_stack() {
  volatile char room[512 * 1024];
  for (std::size_t i = sizeof room; i >= 4096; i -= 4096) room[i - 1] = 0;
  room[0] = 0;
}

// [begin, end) registered with ctl->uffd for write protection.
bool register_wp(std::uint64_t begin, std::uint64_t end) {
  uffdio_register r{};
  r.range.start = begin;
  r.range.len = end - begin;
  r.mode = UFFDIO_REGISTER_MODE_WP;
  return ::ioctl(ctl->uffd, UFFDIO_REGISTER, &r) == 0;
}

// [begin, end) registered for asynchronous write protection, and kept in
// ctl->vmas (nothing when empty).
bool enroll(std::uint64_t begin, std::uint64_t end, bool file) {
  if (begin >= end) return true;
  if (ctl->vma_count == kMaxVmas) return fail("too many mappings");
  if (!register_wp(begin, end)) return fail("a writable mapping cannot be write-protected");
  ctl->vmas[ctl->vma_count++] = Vma{begin, end, file};
  if (begin < ctl->lo) ctl->lo = begin;
  if (end > ctl->hi) ctl->hi = end;
  return true;
}

// /proc/self/pagemap, and a userfaultfd with asynchronous write protection;
// false (and why_not) when the kernel has not all it takes.
bool open_tracking(int& pagemap, int& uffd) {
  pagemap = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (pagemap < 0) return fail("no /proc/self/pagemap");
  uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK));
  if (uffd < 0 && errno == EPERM)  // vm.unprivileged_userfaultfd=0: user-mode faults are all it takes
    uffd = static_cast<int>(::syscall(SYS_userfaultfd, O_CLOEXEC | O_NONBLOCK | kUserModeOnly));
  if (uffd < 0) return fail("no userfaultfd");
  uffdio_api api{};
  api.api = UFFD_API;
  api.features = kFeatureWpAsync;
  if (::ioctl(uffd, UFFDIO_API, &api) != 0)
    return fail("no asynchronous write protection (userfaultfd WP_ASYNC, Linux 6.7)");
  PmScanArg a{};  // an empty question about this stack's page
  a.size = sizeof a;
  a.start = reinterpret_cast<std::uint64_t>(&a) / kPage * kPage;
  a.end = a.start + kPage;
  if (::ioctl(pagemap, kPagemapScan, &a) < 0) return fail("no PAGEMAP_SCAN (Linux 6.7)");
  return true;
}

// Why a worker in this process could not take a restore point, before any
// question to the kernel; nullptr when nothing stands in the way.
const char* turned_off() {
  if (under_valgrind()) return "under valgrind";
  if (const char* env = std::getenv("QEDISIM_RESTORE"); env && std::strcmp(env, "0") == 0) return "QEDISIM_RESTORE=0";
  return nullptr;
}

// The control mapping, userfaultfd and every writable private mapping
// registered for asynchronous write protection.
bool prepare() {
  void* p =
      ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return fail("no room for the restore point's control block");
  ctl = static_cast<Control*>(p);  // mmap's zeros are its initial state, but for the files
  ctl->pagemap = ctl->uffd = -1;
  const auto own_begin = reinterpret_cast<std::uint64_t>(p);
  const auto own_end = own_begin + (sizeof(Control) + kPage - 1) / kPage * kPage;
  if (!open_tracking(ctl->pagemap, ctl->uffd)) return false;

  const std::size_t len = read_text("/proc/self/maps", ctl->maps, kMapsText);
  if (len >= kMapsText) return fail("cannot read /proc/self/maps");
  ctl->maps[len] = '\0';
  ctl->lo = ~std::uint64_t{0};
  for (const char* line = ctl->maps; *line;) {
    const auto [begin, end, perms] = parse_line(line);
    const bool writable_private = perms[1] == 'w' && perms[3] == 'p';
    const char* q = perms + 5;
    hex(q);  // offset
    ++q;
    hex(q);  // device major
    ++q;
    hex(q);  // device minor
    ++q;
    const bool file = hex(q) != 0;  // inode (decimal; non-zero is all that matters)
    const char* next = std::strchr(q, '\n');
    line = next ? next + 1 : q + std::strlen(q);
    if (!writable_private) continue;
    // The control block may share a line with a neighbour: only the
    // neighbour's part is registered.
    if (!enroll(begin, std::min(end, own_begin), file) || !enroll(std::max(begin, own_end), end, file)) return false;
  }
  if (ctl->vma_count == 0) return fail("no writable mapping");
  return true;
}

// Protects every registered page, then copies those present into the store.
// A page written after its protection is put back to its copy; what only
// this function writes (its own frames, below the point's) is dead when the
// point is resumed.
bool snapshot() {
  Control& c = *ctl;
  // Only the pages there are: protecting a hole would fill it with markers
  // (page tables for all of the child heap's reservation). A page made
  // later is written by its nature, and is found as such.
  if (scan(c.lo, c.hi, kWpMatching, kWpAllowed | kPresent, 0, 0, nullptr) < 0)
    return fail("PAGEMAP_SCAN cannot write-protect");
  std::size_t total = 0;
  for (std::uint64_t at = c.lo; at < c.hi;) {
    std::uint64_t walk_end = c.hi;
    const long n = scan(at, c.hi, 0, kWpAllowed, kPresent | kSwapped, kPresent | kSwapped, &walk_end);
    if (n < 0) return fail("PAGEMAP_SCAN failed");
    for (long i = 0; i < n; ++i) {
      const PageRegion& r = c.vec[i];
      if (c.saved_count > 0 && c.saved[c.saved_count - 1].end == r.start) {
        c.saved[c.saved_count - 1].end = r.end;
      } else {
        if (c.saved_count == kMaxSaved) return fail("too many stretches of pages");
        c.saved[c.saved_count++] = Saved{r.start, r.end, total};
      }
      total += r.end - r.start;
    }
    if (walk_end <= at) return fail("PAGEMAP_SCAN made no progress");
    at = walk_end;
  }
  void* store = ::mmap(nullptr, total ? total : 1, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (store == MAP_FAILED) return fail("no room for the copy of the pages");
  c.store = static_cast<char*>(store);
  c.store_size = total;
  for (std::size_t i = 0; i < c.saved_count; ++i)
    std::memcpy(c.store + c.saved[i].offset, to_ptr(c.saved[i].begin), c.saved[i].end - c.saved[i].begin);
  c.brk = static_cast<std::uint64_t>(::syscall(SYS_brk, 0));
  c.maps_len = read_text("/proc/self/maps", c.maps, kMapsText);
  if (c.maps_len >= kMapsText) return fail("cannot read /proc/self/maps");
  for (const char* line = c.maps; line < c.maps + c.maps_len; line = line_end(line, c.maps + c.maps_len)) {
    if (c.range_count == kMaxVmas) return fail("too many mappings");
    const MapsLine l = parse_line(line);
    c.ranges[c.range_count++] = Range{l.begin, l.end};
  }
  c.lowest_free_fd = lowest_free_fd();
  c.ready = true;
  return true;
}

// The stretches of the mappings now (c.maps_now, `len` bytes) that the
// point did not have, unmapped: a run that elaborates a model (swarm's)
// maps SystemC's thread stacks and the DMA memory, and its memory, put
// back, knows nothing of them. *changed says whether any was. False when
// one is not anonymous memory; the program break's new stretch (up to
// `heap_end`) is left to the break.
bool unmap_new(std::size_t len, std::uint64_t heap_end, bool* changed) {
  Control& c = *ctl;
  auto drop = [&](std::uint64_t begin, std::uint64_t end, bool anonymous) {
    if (begin >= c.brk && end <= heap_end) return true;
    if (!anonymous || ::munmap(to_ptr(begin), end - begin) != 0) return false;
    *changed = true;
    return true;
  };
  std::size_t k = 0;  // the first of the point's mappings not wholly below
  for (const char* b = c.maps_now; b < c.maps_now + len; b = line_end(b, c.maps_now + len)) {
    const auto [begin, end, perms] = parse_line(b);
    const bool anonymous = anonymous_private(perms);
    while (k < c.range_count && c.ranges[k].end <= begin) ++k;
    std::uint64_t at = begin;
    for (std::size_t i = k; i < c.range_count && c.ranges[i].begin < end && at < end; ++i) {
      if (c.ranges[i].begin > at && !drop(at, c.ranges[i].begin, anonymous)) return false;
      at = std::max(at, c.ranges[i].end);
    }
    if (at < end && !drop(at, end, anonymous)) return false;
  }
  return true;
}

// Whether the mappings now (c.maps_now, `len` bytes) are the point's, but
// for the program break moved up to `heap_end` (set back when the worker
// goes back) and, with `remap`, the anonymous mappings the run unmapped:
// mapped again where they were (empty: their pages come back from the
// copies; *remapped says so). SystemC frees the stack of a thread that
// ended and whose process nobody holds (kern::KThread holds its own: a
// model's run unmaps none). Anything else (a
// mapping made, moved or changed, a file's mapping dropped) is not.
bool same_mappings(std::size_t len, std::uint64_t heap_end, bool remap, bool* remapped) {
  Control& c = *ctl;
  const char* a = c.maps;
  const char* const a_end = c.maps + c.maps_len;
  const char* b = c.maps_now;
  const char* const b_end = c.maps_now + len;
  while (a < a_end || b < b_end) {
    if (b < b_end) {
      const char* const b_next = line_end(b, b_end);
      const MapsLine now = parse_line(b);
      if (now.begin >= c.brk && now.end <= heap_end) {  // the break's new stretch
        b = b_next;
        continue;
      }
      if (a < a_end) {
        const char* const a_next = line_end(a, a_end);
        const MapsLine then = parse_line(a);
        const bool grown_heap = then.begin == now.begin && then.end == c.brk && now.end == heap_end;
        const auto rest = static_cast<std::size_t>(a_next - then.perms);
        if ((grown_heap || (then.end == now.end && then.begin == now.begin)) &&
            static_cast<std::size_t>(b_next - now.perms) == rest && std::memcmp(then.perms, now.perms, rest) == 0) {
          a = a_next;
          b = b_next;
          continue;
        }
      }
    }
    if (a >= a_end || !remap) return false;  // a line the point did not have
    // The point's line is gone: an anonymous private mapping is mapped again.
    const char* const a_next = line_end(a, a_end);
    const auto [begin, end, perms] = parse_line(a);
    if (!anonymous_private(perms)) return false;  // a file's, or a named one ([stack], [heap])
    const int prot =
        (perms[0] == 'r' ? PROT_READ : 0) | (perms[1] == 'w' ? PROT_WRITE : 0) | (perms[2] == 'x' ? PROT_EXEC : 0);
    // Writable: populated in this one call. Its pages all come back from
    // the copies (or cleared), and a page fault each (a freed 256 KiB
    // thread stack: 64 a run) cost far more than the call, the more so in a
    // virtual machine, where each is an exit.
    const int populate = perms[1] == 'w' ? MAP_POPULATE : 0;
    void* p =
        ::mmap(to_ptr(begin), end - begin, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE | populate, -1, 0);
    if (p != to_ptr(begin)) {
      if (p != MAP_FAILED) ::munmap(p, end - begin);  // a kernel that ignored MAP_FIXED_NOREPLACE
      return false;
    }
    if (perms[1] == 'w' && !register_wp(begin, end)) return false;  // in ctl->vmas since the point
    *remapped = true;
    a = a_next;
  }
  return true;
}

// Pages the point had no copy of: cleared in anonymous memory, dropped from
// a file's private mapping (read again from the file when next touched).
void clear(std::uint64_t begin, std::uint64_t end) {
  for (std::size_t i = 0; i < ctl->vma_count; ++i) {
    const Vma& v = ctl->vmas[i];
    const std::uint64_t b = begin > v.begin ? begin : v.begin;
    const std::uint64_t e = end < v.end ? end : v.end;
    if (b >= e) continue;
    if (!v.file)
      std::memset(to_ptr(b), 0, e - b);
    else if (::madvise(to_ptr(b), e - b, MADV_DONTNEED) != 0)
      ::_exit(0);
  }
}

// [begin, end) back as at the point: the copied pages from the store, and
// (`all`) the others cleared. *cursor: the first Saved not wholly below.
void put_back(std::uint64_t begin, std::uint64_t end, bool all, std::size_t* cursor) {
  Control& c = *ctl;
  std::size_t i = *cursor;
  while (i < c.saved_count && c.saved[i].end <= begin) ++i;
  *cursor = i;
  std::uint64_t at = begin;
  for (; i < c.saved_count && c.saved[i].begin < end; ++i) {
    const Saved& s = c.saved[i];
    const std::uint64_t b = begin > s.begin ? begin : s.begin;
    const std::uint64_t e = end < s.end ? end : s.end;
    if (all && at < b) clear(at, b);
    std::memcpy(to_ptr(b), c.store + s.offset + (b - s.begin), e - b);
    at = e;
  }
  if (all && at < end) clear(at, end);
}

// On the alternate stack: every page written since the point (and any the
// run dropped) back, protected again, and on at the point. It writes no
// other memory that is put back: a write after the scan would be missed.
[[noreturn]] void restore_memory() {
  Control& c = *ctl;
  std::size_t cursor = 0;
  for (std::uint64_t at = c.lo; at < c.hi;) {
    std::uint64_t walk_end = c.hi;
    const long n = scan(at, c.hi, 0, kWpAllowed, 0, kPresent | kWritten, &walk_end);
    if (n < 0 || walk_end <= at) ::_exit(0);
    for (long i = 0; i < n; ++i) {
      const PageRegion& r = c.vec[i];
      // A hole (a page never made, or dropped by the run) reads as it did
      // at the point unless the point had a copy of it: counted as written
      // in anonymous memory, there is nothing in it to clear.
      if (!(r.categories & kPresent))
        put_back(r.start, r.end, false, &cursor);
      else if (r.categories & kWritten)
        put_back(r.start, r.end, true, &cursor);
    }
    at = walk_end;
  }
  // The pages written stay writable for kProtectEvery runs: a page not
  // protected reads as written, so it is put back after every run whether
  // the run wrote it or not, and the runs take no fault for it. Runs of a
  // campaign write mostly the same pages; protecting them all again now
  // and then drops those only a few runs wrote.
  if (c.passes % kProtectEvery == 0 &&
      scan(c.lo, c.hi, kWpMatching, kWpAllowed | kWritten | kPresent, 0, 0, nullptr) < 0)
    ::_exit(0);
  ::setcontext(&c.point);
  ::_exit(0);
}

#endif  // !QEDISIM_SANITIZED

}  // namespace

long take_restore_point() {
#if QEDISIM_SANITIZED
  why_not = "a sanitizer build";
  return -1;
#else
  if (ctl) {
    fail("a restore point was taken already");
    return -1;
  }
  if (const char* off = turned_off()) {
    fail(off);
    return -1;
  }
  grow_stack();
  if (!prepare()) {
    if (ctl && ctl->uffd >= 0) ::close(ctl->uffd);  // every registration goes with it
    return -1;
  }
  // malloc keeps to the program break and never gives it back: a run's
  // mmap() or trim would change the mappings and end the worker.
  ::mallopt(M_MMAP_MAX, 0);
  ::mallopt(M_TRIM_THRESHOLD, std::numeric_limits<int>::max());
  ::getcontext(&ctl->point);
  if (!ctl->ready) {
    if (!snapshot()) {
      ::close(ctl->uffd);
      return -1;
    }
  }
  return ctl->passes;
#endif
}

bool can_return_to_restore_point() {
#if QEDISIM_SANITIZED
  return false;
#else
  if (!ctl || !ctl->ready) return false;
  Control& c = *ctl;
  // The kernel's side is checked, and mended where the memory says how:
  // the program break may have moved up (it is set back on the way, and
  // malloc's view of it with its memory), new anonymous mappings are
  // unmapped and SystemC's freed stacks mapped again; anything else
  // changed ends the worker.
  if (lowest_free_fd() != c.lowest_free_fd) return false;
  const auto heap_end = static_cast<std::uint64_t>(::syscall(SYS_brk, 0));
  std::size_t len = read_text("/proc/self/maps", c.maps_now, kMapsText);
  if (len == c.maps_len && std::memcmp(c.maps_now, c.maps, len) == 0) return true;
  if (len >= kMapsText) return false;
  bool unmapped = false;
  if (!unmap_new(len, heap_end, &unmapped)) return false;
  if (unmapped) {
    len = read_text("/proc/self/maps", c.maps_now, kMapsText);
    if (len >= kMapsText) return false;
  }
  bool remapped = false;
  if (!same_mappings(len, heap_end, true, &remapped)) return false;
  if (!remapped) return true;
  len = read_text("/proc/self/maps", c.maps_now, kMapsText);  // as they were, merged with nothing
  return len < kMapsText && same_mappings(len, heap_end, false, &remapped);
#endif
}

void return_to_restore_point() {
#if !QEDISIM_SANITIZED
  if (ctl && ctl->ready) {
    Control& c = *ctl;
    ::syscall(SYS_brk, c.brk);  // malloc's view of it comes back with its memory
    ++c.passes;
    ::getcontext(&c.restorer);
    c.restorer.uc_stack.ss_sp = c.alt_stack;
    c.restorer.uc_stack.ss_size = sizeof c.alt_stack;
    c.restorer.uc_link = nullptr;
    // No handler runs while memory is put back (its writes would be
    // missed); the point's context unblocks what it had.
    sigfillset(&c.restorer.uc_sigmask);
    ::makecontext(&c.restorer, restore_memory, 0);
    ::swapcontext(&c.leaving, &c.restorer);  // restore_memory() continues at the point
  }
#endif
  ::_exit(0);
}

const char* restore_point_why_not() { return why_not; }

const char* restore_point_probe() {
#if QEDISIM_SANITIZED
  return "a sanitizer build";
#else
  if (const char* off = turned_off()) return off;
  int pagemap = -1;
  int uffd = -1;
  const bool ok = open_tracking(pagemap, uffd);
  if (pagemap >= 0) ::close(pagemap);
  if (uffd >= 0) ::close(uffd);
  return ok ? "" : why_not;
#endif
}

}  // namespace qedisim
