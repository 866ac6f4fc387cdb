#include "runtime/formats/mapped_file.h"

#include <gtest/gtest.h>

#include "runtime/formats/format_error.h"
#include "tests/cpp/formats/test_files.h"

namespace circuit::formats {
namespace {

using testing::ScratchDir;

TEST(MappedFile, MapsTheWholeFile) {
  ScratchDir dir;
  const std::string path = dir.write("a.bin", std::string("hello mmap"));
  MappedFile file = MappedFile::open(path);
  EXPECT_EQ(file.path(), path);
  ASSERT_EQ(file.size(), 10u);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(file.bytes().data()), file.size()), "hello mmap");
}

TEST(MappedFile, MovesOwnership) {
  ScratchDir dir;
  MappedFile a = MappedFile::open(dir.write("a.bin", std::string("abc")));
  MappedFile b = std::move(a);
  EXPECT_EQ(b.size(), 3u);
  EXPECT_EQ(a.size(), 0u);  // NOLINT(bugprone-use-after-move): moved-from is empty by contract
  MappedFile c;
  c = std::move(b);
  EXPECT_EQ(c.bytes()[2], 'c');
}

TEST(MappedFile, EmptyFileIsAnEmptySpan) {
  ScratchDir dir;
  MappedFile file = MappedFile::open(dir.write("empty.bin", std::string()));
  EXPECT_EQ(file.size(), 0u);
  EXPECT_TRUE(file.bytes().empty());
}

TEST(MappedFile, MissingFileNamesThePath) {
  ScratchDir dir;
  const std::string path = (dir.path() / "nope.gguf").string();
  try {
    MappedFile::open(path);
    FAIL() << "expected FormatError";
  } catch (const FormatError& e) {
    EXPECT_EQ(e.where(), path);
    EXPECT_NE(std::string(e.what()).find("cannot open"), std::string::npos) << e.what();
  }
}

TEST(MappedFile, RefusesAFolder) {
  ScratchDir dir;
  EXPECT_THROW(MappedFile::open(dir.path().string()), FormatError);
}

}  // namespace
}  // namespace circuit::formats
