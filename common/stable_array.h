// An array that grows without moving its elements, for a table that a run
// fills to a few dozen entries or to tens of thousands (data_race's shadow
// cells). Address space for `max` elements is reserved up front, without
// a commit charge and on 4 KiB pages, and a page is made when an element on
// it is first written. A std::vector that doubles instead writes its whole
// new block at every growth, copying into it, and the block it leaves had
// its pages made for nothing: in a run that reaches 4,096 cells of 96
// bytes, 167 pages against the 96 the cells fill.
//
// The reservation is not a huge page, even where transparent huge pages
// are "always": one would make 512 pages at the first write, and a
// campaign worker copies every page present when it takes its restore
// point (sim/explore/restore_point.h).
//
// Pure C++ over POSIX mmap. Not copyable. Throws std::bad_alloc when no
// reservation can be had and std::length_error past `max`.
#pragma once

#include <sys/mman.h>

#include <cstddef>
#include <new>
#include <stdexcept>
#include <string>

namespace qedisim {

template <typename T>
class StableArray {
 public:
  // Reserves room for `max` elements (at least one; the last page's room
  // too), or for as many as the system gives when it refuses that many:
  // halved until it gives some.
  explicit StableArray(std::size_t max) {
    for (std::size_t n = max > 0 ? max : 1;; n /= 2) {
      const std::size_t bytes = round_up(n * sizeof(T));
      void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
      if (p != MAP_FAILED) {
        ::madvise(p, bytes, MADV_NOHUGEPAGE);
        data_ = static_cast<T*>(p);
        bytes_ = bytes;
        max_ = bytes / sizeof(T);
        return;
      }
      if (n == 1) throw std::bad_alloc();
    }
  }
  StableArray(const StableArray&) = delete;
  StableArray& operator=(const StableArray&) = delete;
  ~StableArray() {
    for (std::size_t i = 0; i < size_; ++i) data_[i].~T();
    ::munmap(data_, bytes_);
  }

  T& operator[](std::size_t i) { return data_[i]; }
  const T& operator[](std::size_t i) const { return data_[i]; }
  std::size_t size() const { return size_; }
  // How many elements fit: `max` rounded up to whole pages, or fewer where
  // the system gave less.
  std::size_t capacity() const { return max_; }

  // A value-initialized element at the end. Every element before it stays
  // where it is.
  T& emplace_back() {
    if (size_ == max_) throw std::length_error("StableArray: full at " + std::to_string(max_) + " elements");
    T* e = new (data_ + size_) T();
    ++size_;
    return *e;
  }

 private:
  static std::size_t round_up(std::size_t bytes) {
    constexpr std::size_t kPage = 4096;
    return (bytes + kPage - 1) / kPage * kPage;
  }
  T* data_ = nullptr;
  std::size_t bytes_ = 0;
  std::size_t max_ = 0;
  std::size_t size_ = 0;
};

}  // namespace qedisim
