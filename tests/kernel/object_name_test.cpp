// host_driver_model/kernel/object_name.h: names kept as numbers print as the
// text they replace, and compare without being formatted.
#include "host_driver_model/kernel/object_name.h"

#include <fmt/format.h>

#include <boost/test/unit_test.hpp>
#include <string>

using qedisim::kern::ObjectName;

BOOST_AUTO_TEST_SUITE(object_name)

// The texts libiscsi and scsi-ml formatted before the names were kept as
// numbers (fmt's "s{} itt {:#04x}" and "s{} lun{} tag {}").
BOOST_AUTO_TEST_CASE(numbered_names_print_as_their_formats) {
  for (const unsigned itt : {0u, 5u, 0xfu, 0x10u, 0x1au, 0xffu, 0x100u, 0xfffu})
    for (const unsigned session : {0u, 3u, 12u})
      BOOST_TEST(ObjectName::task(session, itt).str() == fmt::format("s{} itt {:#04x}", session, itt));
  BOOST_TEST(ObjectName::scsi_cmnd(0, 1, 12).str() == "s0 lun1 tag 12");
  BOOST_TEST(ObjectName::scsi_cmnd(4, 0, 4294967295u).str() == "s4 lun0 tag 4294967295");
  BOOST_TEST(fmt::format("{}", ObjectName::task(1, 2)) == "s1 itt 0x02");
}

// A slot renamed (a pooled task taken again) prints its new name, whether
// or not the old one had been formatted; a copy prints what it was copied
// from, and text names stay text.
BOOST_AUTO_TEST_CASE(renaming_a_slot_forgets_the_old_text) {
  ObjectName slot;
  BOOST_TEST(slot.empty());
  slot = ObjectName::task(0, 5);
  BOOST_TEST(!slot.empty());
  BOOST_TEST(slot.str() == "s0 itt 0x05");
  slot = ObjectName::task(0, 6);
  BOOST_TEST(slot.str() == "s0 itt 0x06");
  slot = ObjectName::scsi_cmnd(0, 1, 2);
  slot = ObjectName::task(2, 7);  // never formatted as the command
  BOOST_TEST(slot.str() == "s2 itt 0x07");
  slot = "s0 login";
  BOOST_TEST(slot.str() == "s0 login");
  slot = ObjectName();
  BOOST_TEST(slot.empty());
  BOOST_TEST(slot.str().empty());
  const ObjectName built = ObjectName::task(1, 1);
  BOOST_TEST(built.str() == "s1 itt 0x01");
  const ObjectName copy = built;  // NOLINT(performance-unnecessary-copy-initialization): the copy is the test
  BOOST_TEST(copy.str() == "s1 itt 0x01");
}

// Equal exactly when the texts are equal, across kinds too.
BOOST_AUTO_TEST_CASE(names_are_equal_exactly_when_their_texts_are) {
  BOOST_TEST((ObjectName::task(0, 5) == ObjectName::task(0, 5)));
  BOOST_TEST((ObjectName::task(0, 5) != ObjectName::task(0, 6)));
  BOOST_TEST((ObjectName::task(0, 5) != ObjectName::task(1, 5)));
  BOOST_TEST((ObjectName::scsi_cmnd(0, 1, 2) != ObjectName::scsi_cmnd(0, 1, 3)));
  BOOST_TEST((ObjectName::scsi_cmnd(0, 1, 2) != ObjectName::scsi_cmnd(0, 2, 2)));
  BOOST_TEST((ObjectName::task(0, 5) == ObjectName(std::string("s0 itt 0x05"))));
  BOOST_TEST((ObjectName(std::string("s0 itt 0x05")) == ObjectName::task(0, 5)));
  BOOST_TEST((ObjectName::task(0, 5) != ObjectName(std::string("s0 itt 0x5"))));
  BOOST_TEST((ObjectName("s0c0") == ObjectName(std::string("s0c0"))));
  BOOST_TEST((ObjectName("s0c0") != ObjectName("s0c1")));
}

BOOST_AUTO_TEST_SUITE_END()
