// Header values: nothing that could end a header line reaches a response header, and a
// download's file name is reduced to characters that cannot break its quoting.
#include "server/header_value.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace circuit::server {
namespace {

TEST(HeaderValue, PlainValuesPassUnchanged) {
  const std::string value = "attachment; filename=\"ioi.circuit.json\"";
  EXPECT_EQ(&checked_header_value("Content-Disposition", value), &value);
  EXPECT_EQ(checked_header_value("X-Shape", "32,4,40,40"), "32,4,40,40");
  EXPECT_EQ(checked_header_value("X-Empty", ""), "");
}

TEST(HeaderValue, ControlCharactersAreRefusedNamingTheHeader) {
  const std::vector<std::string> bad = {"a\r\nX-Injected: yes", "a\nb", "a\rb", "a\tb", std::string("a\0b", 3), "a\x7f",
                                       "caf\xc3\xa9"};
  for (const auto& value : bad) {
    try {
      checked_header_value("Content-Disposition", value);
      ADD_FAILURE() << "accepted: " << value;
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find("Content-Disposition"), std::string::npos) << e.what();
    }
  }
}

TEST(HeaderValue, ControlCharactersInNames) {
  EXPECT_TRUE(holds_control_character("inj\r\nX-Injected: yes.circuit"));
  EXPECT_TRUE(holds_control_character(std::string("a\0b", 3)));
  EXPECT_TRUE(holds_control_character("\x1f"));
  EXPECT_TRUE(holds_control_character("\x7f"));
  EXPECT_FALSE(holds_control_character("examples/ioi.circuit"));
  EXPECT_FALSE(holds_control_character("caf\xc3\xa9.circuit"));  // UTF-8 names are fine
}

TEST(HeaderValue, AttachmentNamesCannotBreakTheHeader) {
  EXPECT_EQ(attachment_disposition("ioi.circuit.json"), "attachment; filename=\"ioi.circuit.json\"");
  EXPECT_EQ(attachment_disposition("inj\r\nX-Injected: yes.circuit.json"),
            "attachment; filename=\"inj__X-Injected__yes.circuit.json\"");
  EXPECT_EQ(attachment_disposition("a\"b;c.json"), "attachment; filename=\"a_b_c.json\"");
  EXPECT_EQ(attachment_disposition(""), "attachment; filename=\"download\"");
  EXPECT_NO_THROW(checked_header_value("Content-Disposition", attachment_disposition("caf\xc3\xa9\x01.json")));
}

}  // namespace
}  // namespace circuit::server
