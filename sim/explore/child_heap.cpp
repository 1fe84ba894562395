#include "sim/explore/child_heap.h"

#include <sys/mman.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>

#include "sim/explore/instrumented.h"

namespace qedisim {

#if !QEDISIM_SANITIZED

namespace {

// Each block is a 16-byte header (its size class) and the class's 16-byte
// multiple, so every block keeps new's 16-byte alignment.
constexpr std::size_t kHeader = 16;
constexpr std::size_t kGrain = 16;
constexpr std::size_t kLargest = 4096;  // larger: malloc
constexpr std::size_t kClasses = kLargest / kGrain + 1;
// Address space only (MAP_NORESERVE): pages are made when first touched.
constexpr std::size_t kReserve = std::size_t{16} << 30;

// With populate ahead (a process's only simulation), the pages in front of
// `next` are made a chunk at a time by one madvise(MADV_POPULATE_WRITE), not
// by a page fault each: in a virtual machine where a fault is an exit
// (15-25 us), making a page in the kernel costs about half a fault.
constexpr std::size_t kPopulateChunk = std::size_t{64} << 10;
#ifdef MADV_POPULATE_WRITE
constexpr int kMadvPopulateWrite = MADV_POPULATE_WRITE;
#else
constexpr int kMadvPopulateWrite = 23;  // Linux 5.14's value, for older headers
#endif

struct ChildHeap {
  char* begin = nullptr;  // null: off, every block is malloc's
  char* end = nullptr;
  char* next = nullptr;
  char* populated = nullptr;  // pages below are made; null: not populating ahead
  void* free_list[kClasses] = {};
};
ChildHeap heap;

// Blocks of 2 MiB or more, each in a mapping of its own on transparent huge
// pages (where the system allows them, MADV_HUGEPAGE): SystemC's library
// makes one of 3 MiB and zeroes it before main (sc_dt's temporary heap),
// which is 768 page faults on 4 KiB pages, two on huge pages; the VCD
// tracer's list of changes doubles to tens of MiB. In a virtual machine,
// where each fault is an exit, the faults of the first were a third of
// `qedisim run`'s whole process, and those of the second most of what the
// VCD cost. A run from a restore point that makes one maps memory, which
// the restore unmaps (restore_point.h).
constexpr std::size_t kHugePage = std::size_t{2} << 20;
struct HugeBlock {
  void* p = nullptr;  // null: a free entry
  std::size_t len = 0;
};
HugeBlock huge_blocks[8];
std::size_t huge_count = 0;

// A mapping of n bytes rounded up to whole huge pages, aligned to one;
// null when none is left to track it or the mapping fails (malloc then).
void* allocate_huge(std::size_t n) {
  for (HugeBlock& b : huge_blocks) {
    if (b.p) continue;
    const std::size_t len = (n + kHugePage - 1) / kHugePage * kHugePage;
    void* const got = ::mmap(nullptr, len + kHugePage, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (got == MAP_FAILED) return nullptr;
    const std::size_t lead = (kHugePage - reinterpret_cast<std::uintptr_t>(got) % kHugePage) % kHugePage;
    char* const aligned = static_cast<char*>(got) + lead;
    if (lead > 0) ::munmap(got, lead);  // the slack on either side
    ::munmap(aligned + len, kHugePage - lead);
    b.p = aligned;
    b.len = len;
    ::madvise(b.p, len, MADV_HUGEPAGE);
    ++huge_count;
    return b.p;
  }
  return nullptr;
}

// Unmaps p when it is one of the huge blocks (each 2 MiB-aligned: most
// pointers freed are not, and are answered without the walk).
bool release_huge(void* p) {
  if (huge_count == 0 || reinterpret_cast<std::uintptr_t>(p) % kHugePage != 0) return false;
  for (HugeBlock& b : huge_blocks) {
    if (b.p != p) continue;
    ::munmap(b.p, b.len);
    b = HugeBlock{};
    --huge_count;
    return true;
  }
  return false;
}

// Makes the next chunk of pages, past the one `next` is now in. A kernel
// without MADV_POPULATE_WRITE (before 5.14) says EINVAL: populating ahead
// stops and pages are made by faults, as without it.
void populate_ahead() {
  const auto done = static_cast<std::size_t>(heap.next - heap.begin);  // chunks are aligned, as madvise needs
  char* const upto = heap.begin + std::min(kReserve, (done / kPopulateChunk + 1) * kPopulateChunk);
  if (::madvise(heap.populated, static_cast<std::size_t>(upto - heap.populated), kMadvPopulateWrite) != 0) {
    heap.populated = nullptr;
    return;
  }
  heap.populated = upto;
}

bool owns(const void* p) {
  const auto a = reinterpret_cast<std::uintptr_t>(p);
  return a >= reinterpret_cast<std::uintptr_t>(heap.begin) && a < reinterpret_cast<std::uintptr_t>(heap.end);
}

void* allocate(std::size_t n) {
  if (heap.begin && n <= kLargest) {
    const std::size_t cls = n == 0 ? 1 : (n + kGrain - 1) / kGrain;  // a free block holds its link
    if (void* p = heap.free_list[cls]) {
      std::memcpy(&heap.free_list[cls], p, sizeof(void*));
      return p;
    }
    const std::size_t step = kHeader + cls * kGrain;
    if (static_cast<std::size_t>(heap.end - heap.next) >= step) {
      char* block = heap.next;
      heap.next += step;
      if (heap.populated && heap.next > heap.populated) populate_ahead();
      std::memcpy(block, &cls, sizeof cls);
      return block + kHeader;
    }
  }
  if (n >= kHugePage) {
    if (void* p = allocate_huge(n)) return p;
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}

void release(void* p) noexcept {
  if (!p) return;
  if (!owns(p)) {
    if (release_huge(p)) return;
    std::free(p);
    return;
  }
  std::size_t cls = 0;
  std::memcpy(&cls, static_cast<char*>(p) - kHeader, sizeof cls);
  std::memcpy(p, &heap.free_list[cls], sizeof(void*));
  heap.free_list[cls] = p;
}

}  // namespace

bool begin_child_heap(HeapPages pages) {
  if (heap.begin) return true;
  if (const char* env = std::getenv("QEDISIM_CHILD_HEAP"); env && std::strcmp(env, "0") == 0) return false;
  void* p = ::mmap(nullptr, kReserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) return false;  // no room for the reservation: malloc, as before
  // 4 KiB pages even where transparent huge pages are "always": a run
  // touches a few hundred KiB, and zeroing a 2 MiB page costs more than the
  // faults it saves.
  ::madvise(p, kReserve, MADV_NOHUGEPAGE);
  heap.begin = heap.next = static_cast<char*>(p);
  heap.end = heap.begin + kReserve;
  if (pages == HeapPages::populate_ahead) {
    heap.populated = heap.begin;
    populate_ahead();
  }
  return true;
}

std::size_t child_heap_used() { return static_cast<std::size_t>(heap.next - heap.begin); }

#else  // sanitizers: malloc throughout

bool begin_child_heap(HeapPages) { return false; }
std::size_t child_heap_used() { return 0; }

#endif

}  // namespace qedisim

#if !QEDISIM_SANITIZED
// The replaceable allocation functions ([new.delete]): the plain and array
// forms, with and without nothrow and size. Aligned new stays the library's
// (aligned_alloc and free), as does its delete.
void* operator new(std::size_t n) { return qedisim::allocate(n); }
void* operator new[](std::size_t n) { return qedisim::allocate(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return qedisim::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  try {
    return qedisim::allocate(n);
  } catch (...) {
    return nullptr;
  }
}
void operator delete(void* p) noexcept { qedisim::release(p); }
void operator delete[](void* p) noexcept { qedisim::release(p); }
void operator delete(void* p, std::size_t) noexcept { qedisim::release(p); }
void operator delete[](void* p, std::size_t) noexcept { qedisim::release(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { qedisim::release(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { qedisim::release(p); }
#endif
