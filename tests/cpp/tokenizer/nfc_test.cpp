// NFC normalisation and the generated Unicode tables.
#include <gtest/gtest.h>

#include "runtime/tokenizer/nfc.h"
#include "runtime/tokenizer/unicode_tables.h"

namespace circuit::tok {
namespace {

TEST(Nfc, ComposesAndReorders) {
  EXPECT_EQ(nfc("cafe\xcc\x81"), "caf\xc3\xa9");                  // e + acute -> é
  EXPECT_EQ(nfc("q\xcc\x87\xcc\xa3"), "q\xcc\xa3\xcc\x87");       // dot below sorts before dot above
  EXPECT_EQ(nfc("\xe1\x84\x80\xe1\x85\xa1\xe1\x86\xa8"), "\xea\xb0\x81");  // Hangul L V T -> 각
  EXPECT_EQ(nfc("\xe2\x84\xab"), "\xc3\x85");                     // Angstrom sign -> Å (singleton)
  EXPECT_EQ(nfc("plain ascii"), "plain ascii");
}

TEST(Nfc, KeepsInvalidBytes) {
  EXPECT_EQ(nfc("e\xff\xcc\x81"), "e\xff\xcc\x81");
}

TEST(UnicodeTables, Classes) {
  EXPECT_EQ(char_class(U'\u00e9'), CharClass::Letter);
  EXPECT_EQ(char_class(U'\u0663'), CharClass::Number);  // Arabic-Indic three
  EXPECT_EQ(char_class(U'\u3000'), CharClass::Space);
  EXPECT_EQ(char_class(U'\u001c'), CharClass::Other);   // not White_Space, unlike str.isspace
  EXPECT_EQ(char_class(U'\u0301'), CharClass::Other);
  EXPECT_EQ(char_class(U'\U0001F600'), CharClass::Other);
}

}  // namespace
}  // namespace circuit::tok
