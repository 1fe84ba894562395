// The target's service-time distribution (sim/target/service_time.h).
#include "sim/target/service_time.h"

#include <algorithm>
#include <boost/test/unit_test.hpp>
#include <vector>

using namespace qedisim;
using target::ServiceTime;

namespace {
std::vector<std::int64_t> draws(ServiceTime& st, std::size_t n) {
  std::vector<std::int64_t> v(n);
  for (auto& x : v) x = st.draw();
  return v;
}
std::int64_t quantile(std::vector<std::int64_t> v, double q) {
  std::sort(v.begin(), v.end());
  return v[static_cast<std::size_t>(q * static_cast<double>(v.size() - 1))];
}
}  // namespace

BOOST_AUTO_TEST_SUITE(service_time)

BOOST_AUTO_TEST_CASE(median_and_p99_are_the_ones_asked_for) {
  ServiceTime st(Duration::from_us(100), Duration::from_us(400), 7);
  BOOST_TEST(st.has_tail());
  const auto v = draws(st, 200000);
  const auto median = quantile(v, 0.5);
  const auto p99 = quantile(v, 0.99);
  BOOST_TEST_MESSAGE("median " << median << " ns, p99 " << p99 << " ns");
  BOOST_TEST(median > 97'000);
  BOOST_TEST(median < 103'000);
  BOOST_TEST(p99 > 370'000);
  BOOST_TEST(p99 < 430'000);
  BOOST_TEST(*std::max_element(v.begin(), v.end()) <= 10'000'000);  // capped at 100 medians
  BOOST_TEST(*std::min_element(v.begin(), v.end()) > 0);
}

BOOST_AUTO_TEST_CASE(same_seed_same_times_other_seed_other_times) {
  ServiceTime a(Duration::from_us(100), Duration::from_ms(1), 42);
  ServiceTime b(Duration::from_us(100), Duration::from_ms(1), 42);
  ServiceTime c(Duration::from_us(100), Duration::from_ms(1), 43);
  const auto va = draws(a, 1000);
  BOOST_TEST(va == draws(b, 1000));
  BOOST_TEST(va != draws(c, 1000));
}

BOOST_AUTO_TEST_CASE(no_tail_means_every_command_takes_the_median) {
  ServiceTime equal(Duration::from_us(100), Duration::from_us(100), 1);
  ServiceTime below(Duration::from_us(100), Duration::from_us(50), 1);
  BOOST_TEST(!equal.has_tail());
  BOOST_TEST(!below.has_tail());
  for (int i = 0; i < 100; ++i) {
    BOOST_TEST(equal.draw() == 100'000);
    BOOST_TEST(below.draw() == 100'000);
  }
}

BOOST_AUTO_TEST_SUITE_END()
