// A restore point: one forked worker runs many of a campaign's simulations,
// each from the same memory, instead of a child forked for every run.
//
// A run in its own child paid for the fork (the page tables of ~85
// mappings), a copy-on-write fault for every page it wrote, and the exit
// that tore it all down: about half of an explore run's time. A worker
// takes the restore point once, after fork. When a run is over, it puts
// back the pages the run wrote and carries on from the restore point, as
// a new child would have started:
// - userfaultfd's asynchronous write protection (UFFD_FEATURE_WP_ASYNC)
//   marks every page written since the point, in every writable private
//   mapping: the heaps, the data of the program and its libraries, the
//   stacks (the main one and SystemC's coroutine stacks);
// - PAGEMAP_SCAN (Linux 6.7) lists the marked pages and protects them again;
// - each is copied back from the worker's copy of the point's pages (or
//   cleared, or dropped, when it had none then);
// - the registers are set back with setcontext() from an alternate stack,
//   so no live frame is overwritten under its own feet.
// The kernel's side is checked, and mended where the memory says how: the
// program break is set back, anonymous mappings the run made are unmapped
// and those it unmapped (SystemC frees the stack of a thread that ends,
// unless something holds its process, as kern::KThread does) are mapped
// again, populated in one call. A run that changed anything else (a file left open, a
// file mapped, a protection changed) ends its worker after its answer, and
// the pool forks a new one.
//
// Not available (a child per run, as before) without those kernel
// features, under the sanitizers or valgrind, and with QEDISIM_RESTORE=0
// in the environment (to compare: the campaigns' results are the same,
// tests/explore).
#pragma once

namespace qedisim {

// Like fork() or setjmp(), returns more than once. 0: the point is taken;
// n > 0: the n-th return_to_restore_point() brought the process back here,
// its memory as it was when 0 was returned. -1: no restore point (see
// restore_point_why_not()), and nothing changed. Once per process, with no
// other thread running.
long take_restore_point();

// Whether return_to_restore_point() can go back: a point was taken, and
// the run left the mappings and the open files as they were, or as this
// mends them (anonymous mappings made are unmapped, those unmapped are
// mapped again, the program break moved up is set back on the way). When
// not, the caller should exit. Changes no memory the caller uses.
bool can_return_to_restore_point();

// After can_return_to_restore_point() said yes: puts every page written
// since the point back and continues at take_restore_point(). Exits the
// process (status 0) if the kernel fails it half way.
[[noreturn]] void return_to_restore_point();

// Why take_restore_point() returned -1 ("" when it did not).
const char* restore_point_why_not();

// Whether a worker forked from this process can take a restore point: ""
// when it can, else why not (as restore_point_why_not() would say). Asks
// the kernel, and changes nothing.
const char* restore_point_probe();

}  // namespace qedisim
