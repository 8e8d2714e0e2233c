// Unit tests of the S3 XML helpers (src/storage/xml.h): empty elements,
// character references, escaping round trips.
#include <gtest/gtest.h>

#include "storage/xml.h"

namespace litekeep::storage::s3 {
namespace {

TEST(S3XmlTest, EmptyElementWithoutSpaceIsABlock) {
  auto blocks = XmlBlocks("<R><Deleted/><Deleted /><DeletedX/></R>", "Deleted");
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0], "");
  EXPECT_EQ(blocks[1], "");
}

TEST(S3XmlTest, CharacterReferencesDecodeToUtf8) {
  EXPECT_EQ(XmlUnescape("a&#60;b&#x3E;&#8364;&#x1F600;"),
            "a<b>\xE2\x82\xAC\xF0\x9F\x98\x80");
}

TEST(S3XmlTest, ReferencesToNoCharacterBecomeReplacementCharacter) {
  const std::string fffd = "\xEF\xBF\xBD";
  EXPECT_EQ(XmlUnescape("&#xD800;"), fffd);
  EXPECT_EQ(XmlUnescape("&#x110000;"), fffd);
  EXPECT_EQ(XmlUnescape("&#-1;"), fffd);
  EXPECT_EQ(XmlUnescape("&#99999999999999999999;"), fffd);
}

TEST(S3XmlTest, EscapeRoundTrips) {
  const std::string text = "<Key>a&b \"c\" 'd' &amp;</Key>";
  EXPECT_EQ(XmlUnescape(XmlEscape(text)), text);
  EXPECT_EQ(XmlText("<K a=\"1\">x&amp;y</K>", "K"), "x&y");
}

}  // namespace
}  // namespace litekeep::storage::s3
