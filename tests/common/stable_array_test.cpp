// common/stable_array.h: elements that never move, pages made on first touch.
#include "common/stable_array.h"

#include <sys/mman.h>
#include <unistd.h>

#include <boost/test/unit_test.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <vector>

using qedisim::StableArray;

BOOST_AUTO_TEST_SUITE(stable_array)

namespace {
// Counts the live elements, to see the destructor run every one of them.
int live = 0;
struct Counted {
  Counted() { ++live; }
  Counted(const Counted&) = delete;
  ~Counted() { --live; }
  std::uint64_t value = 7;
  std::string text;  // owns heap memory past the short-string buffer
};

// Whether the page holding `p` is resident.
bool resident(const void* p) {
  const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
  const auto* at = static_cast<const char*>(p);
  char* base = const_cast<char*>(at - (reinterpret_cast<std::uintptr_t>(p) & (page - 1)));
  unsigned char v = 0;
  BOOST_REQUIRE(::mincore(base, page, &v) == 0);
  return (v & 1) != 0;
}
}  // namespace

// 100,000 elements appended one at a time: each keeps its address and its
// value while the array grows past every page, every element starts
// value-initialized, and the destructor destroys each one.
BOOST_AUTO_TEST_CASE(elements_never_move_and_are_destroyed) {
  {
    StableArray<Counted> a(1u << 20);
    std::vector<const Counted*> where;
    for (std::uint64_t i = 0; i < 100000; ++i) {
      Counted& c = a.emplace_back();
      BOOST_REQUIRE_EQUAL(c.value, 7u);
      c.value = i;
      c.text.assign(40, static_cast<char>('a' + i % 26));
      where.push_back(&c);
    }
    BOOST_TEST(a.size() == 100000u);
    BOOST_TEST(live == 100000);
    bool same = true;
    for (std::size_t i = 0; i < where.size(); ++i)
      same = same && where[i] == &a[i] && a[i].value == i && a[i].text[0] == static_cast<char>('a' + i % 26);
    BOOST_TEST(same);
  }
  BOOST_TEST(live == 0);
}

// The reservation is not made up front: a page past the elements written
// is not resident, and becomes so when an element on it is.
BOOST_AUTO_TEST_CASE(pages_are_made_as_elements_reach_them) {
  StableArray<std::uint64_t> a(1u << 20);  // 8 MiB of address space
  a.emplace_back() = 1;
  BOOST_TEST(resident(&a[0]));
  const std::size_t far = (1u << 20) - 1;
  BOOST_TEST(!resident(&a[0] + far));
  const std::size_t fifth_page = std::size_t{4} * 4096 / sizeof(std::uint64_t);  // its first element
  BOOST_TEST(!resident(&a[0] + fifth_page));
  while (a.size() <= fifth_page) a.emplace_back() = 2;
  BOOST_TEST(resident(&a[a.size() - 1]));
  BOOST_TEST(!resident(&a[0] + far));
}

// Full: emplace_back throws std::length_error and leaves the array as it was.
BOOST_AUTO_TEST_CASE(full_throws_length_error) {
  StableArray<std::uint32_t> a(3);
  BOOST_TEST(a.capacity() == 4096u / sizeof(std::uint32_t));  // a whole page of room
  while (a.size() < a.capacity()) a.emplace_back() = 5;
  BOOST_CHECK_THROW(a.emplace_back(), std::length_error);
  BOOST_TEST(a.size() == a.capacity());
  BOOST_TEST(a[a.size() - 1] == 5u);
}

BOOST_AUTO_TEST_SUITE_END()
