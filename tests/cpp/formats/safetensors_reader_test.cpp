#include "runtime/formats/safetensors_reader.h"

#include <gtest/gtest.h>

#include "runtime/formats/format_error.h"
#include "tests/cpp/formats/test_files.h"

namespace circuit::formats {
namespace {

using nlohmann::json;
using testing::f32_bytes;
using testing::safetensors_bytes;
using testing::safetensors_file;
using testing::ScratchDir;
using testing::StTensor;

std::string error_of(const std::vector<uint8_t>& bytes) {
  try {
    SafetensorsFile::parse(bytes, "model.safetensors");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

std::vector<uint8_t> two_tensors() {
  return safetensors_file({{"b.weight", "F32", {2, 3}, f32_bytes({1, 2, 3, 4, 5, 6})},
                           {"a.mask", "BOOL", {4}, {1, 0, 1, 1}},
                           {"empty", "F16", {0, 5}, {}}});
}

TEST(SafetensorsReader, ReadsTensorsSortedByName) {
  const auto bytes = two_tensors();
  const SafetensorsFile f = SafetensorsFile::parse(bytes, "model.safetensors");
  ASSERT_EQ(f.tensors().size(), 3u);
  EXPECT_EQ(f.tensors()[0].name, "a.mask");
  const SafetensorsTensor* w = f.find("b.weight");
  ASSERT_NE(w, nullptr);
  EXPECT_EQ(w->dtype, SafetensorsDtype::F32);
  EXPECT_EQ(w->shape, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(w->n_elements, 6u);
  ASSERT_EQ(w->data.size(), 24u);
  float last;
  std::memcpy(&last, w->data.data() + 20, 4);
  EXPECT_EQ(last, 6.0f);
  EXPECT_EQ(f.find("a.mask")->data[1], 0);
  EXPECT_EQ(f.find("empty")->n_elements, 0u);
  EXPECT_EQ(f.find("nope"), nullptr);
}

TEST(SafetensorsReader, ReadsEveryDtypeAndMetadata) {
  const std::vector<std::pair<std::string, size_t>> dtypes = {
      {"F64", 8}, {"F32", 4}, {"F16", 2}, {"BF16", 2}, {"I64", 8}, {"I32", 4}, {"I8", 1}, {"U8", 1}, {"BOOL", 1}};
  json header = json::object();
  std::vector<uint8_t> data;
  for (const auto& [dtype, size] : dtypes) {
    header["t_" + dtype] = {{"dtype", dtype}, {"shape", {3}}, {"data_offsets", {data.size(), data.size() + 3 * size}}};
    data.resize(data.size() + 3 * size);
  }
  header["__metadata__"] = {{"format", "pt"}};
  const auto bytes = safetensors_bytes(header, data);
  const SafetensorsFile f = SafetensorsFile::parse(bytes, "m.safetensors");
  EXPECT_EQ(f.tensors().size(), dtypes.size());
  for (const auto& [dtype, size] : dtypes) {
    const auto* t = f.find("t_" + dtype);
    ASSERT_NE(t, nullptr) << dtype;
    EXPECT_STREQ(safetensors_dtype_name(t->dtype), dtype.c_str());
    EXPECT_EQ(safetensors_dtype_size(t->dtype), size);
  }
  EXPECT_EQ(f.metadata().at("format"), "pt");
}

TEST(SafetensorsReader, RejectsBadHeaders) {
  EXPECT_EQ(error_of({1, 2, 3}), "model.safetensors: too short to be a safetensors file (3 bytes)");
  auto bytes = two_tensors();
  bytes[0] = 0xff;
  bytes[1] = 0xff;
  EXPECT_NE(error_of(bytes).find("header length 65535 runs past the end of the file"), std::string::npos);
  EXPECT_NE(error_of(safetensors_bytes(json::array({1}), {})).find("does not start with '{'"), std::string::npos);
  auto broken = safetensors_bytes(json::object(), {});
  broken[9] = '"';
  EXPECT_NE(error_of(broken).find("invalid JSON in the header"), std::string::npos) << error_of(broken);
}

json one(const std::string& dtype, json shape, uint64_t begin, uint64_t end) {
  return {{"t", {{"dtype", dtype}, {"shape", shape}, {"data_offsets", {begin, end}}}}};
}

TEST(SafetensorsReader, RejectsBadTensorEntries) {
  const std::vector<uint8_t> data(16);
  const auto past = safetensors_bytes(one("F32", {4}, 0, 32), data);
  const size_t header_end = past.size() - data.size();
  EXPECT_EQ(error_of(past), "model.safetensors: tensor 't' data ends at byte " + std::to_string(header_end + 32) +
                                " but the file has " + std::to_string(past.size()) + " bytes");
  EXPECT_EQ(error_of(safetensors_bytes(one("F32", {4}, 8, 4), data)),
            "model.safetensors: tensor 't' data_offsets [8, 4] are misordered");
  EXPECT_EQ(error_of(safetensors_bytes(one("F32", {3}, 0, 16), data)),
            "model.safetensors: tensor 't' has 16 bytes but its shape and dtype F32 need 12");
  EXPECT_EQ(error_of(safetensors_bytes(one("F8_E4M3", {4}, 0, 4), data)),
            "model.safetensors: tensor 't' has unsupported dtype 'F8_E4M3' (supported: F64, F32, F16, BF16, I64, "
            "I32, I8, U8, BOOL)");
  EXPECT_NE(error_of(safetensors_bytes(one("F32", {-1}, 0, 4), data)).find("bad dimension -1"), std::string::npos);
  EXPECT_NE(error_of(safetensors_bytes(one("F32", {1ull << 62, 1ull << 62}, 0, 4), data)).find("absurd shape"),
            std::string::npos);
  const json negative = {{"t", {{"dtype", "F32"}, {"shape", {1}}, {"data_offsets", {-4, 0}}}}};
  EXPECT_NE(error_of(safetensors_bytes(negative, data)).find("non-negative integers"), std::string::npos);
  EXPECT_NE(error_of(safetensors_bytes({{"t", {{"dtype", "F32"}, {"shape", {1}}}}}, data)).find("no 'data_offsets'"),
            std::string::npos);
  EXPECT_NE(error_of(safetensors_bytes({{"t", {{"shape", {1}}}}}, data)).find("no string 'dtype'"), std::string::npos);
  EXPECT_NE(error_of(safetensors_bytes({{"t", 3}}, data)).find("is not an object"), std::string::npos);
  json overlap = {{"a", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {0, 8}}}},
                  {"b", {{"dtype", "F32"}, {"shape", {2}}, {"data_offsets", {4, 12}}}}};
  EXPECT_EQ(error_of(safetensors_bytes(overlap, data)), "model.safetensors: tensors 'a' and 'b' overlap");
}

TEST(SafetensorsReader, RejectsEveryTruncation) {
  const auto bytes = two_tensors();
  for (size_t n = 0; n < bytes.size(); ++n) {
    std::vector<uint8_t> cut(bytes.begin(), bytes.begin() + n);
    EXPECT_THROW(SafetensorsFile::parse(cut, "m.safetensors"), FormatError) << n;
  }
}

TEST(SafetensorsIndexTest, ParsesWeightMap) {
  const std::string text = R"({"metadata": {"total_size": 8},
    "weight_map": {"a": "model-00001-of-00002.safetensors", "b": "model-00002-of-00002.safetensors",
                   "c": "model-00001-of-00002.safetensors"}})";
  const auto index = parse_safetensors_index({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, "i.json");
  EXPECT_EQ(index.weight_map.size(), 3u);
  EXPECT_EQ(index.shards, (std::vector<std::string>{"model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"}));
}

std::string index_error(const std::string& text) {
  try {
    parse_safetensors_index({reinterpret_cast<const uint8_t*>(text.data()), text.size()}, "i.json");
  } catch (const FormatError& e) {
    return e.what();
  }
  return "no error";
}

TEST(SafetensorsIndexTest, RejectsBadIndexes) {
  EXPECT_EQ(index_error("{}"), "i.json: missing field 'weight_map'");
  EXPECT_EQ(index_error(R"({"weight_map": []})"), "i.json: 'weight_map' is not an object");
  EXPECT_EQ(index_error(R"({"weight_map": {"a": 1}})"), "i.json: weight_map entry 'a' is not a file name");
  EXPECT_EQ(index_error(R"({"weight_map": {"a": "../x.safetensors"}})"),
            "i.json: weight_map entry 'a' names '../x.safetensors', which is not a plain file name");
  EXPECT_NE(index_error("{").find("invalid JSON in the index"), std::string::npos);
}

TEST(SafetensorsModelTest, OpensSingleFileAndShards) {
  ScratchDir dir;
  dir.write("single/model.safetensors", two_tensors());
  const SafetensorsModel single = SafetensorsModel::open((dir.path() / "single").string());
  EXPECT_EQ(single.tensors().size(), 3u);
  EXPECT_NE(single.find("b.weight"), nullptr);

  dir.write("sharded/model-00001-of-00002.safetensors", safetensors_file({{"a", "F32", {1}, f32_bytes({1})}}));
  dir.write("sharded/model-00002-of-00002.safetensors",
            safetensors_file({{"b", "F32", {2}, f32_bytes({2, 3})}, {"c", "I8", {1}, {7}}}));
  dir.write("sharded/model.safetensors.index.json",
            std::string(R"({"weight_map": {"a": "model-00001-of-00002.safetensors",)"
                        R"( "b": "model-00002-of-00002.safetensors", "c": "model-00002-of-00002.safetensors"}})"));
  SafetensorsModel sharded = SafetensorsModel::open((dir.path() / "sharded").string());
  EXPECT_EQ(sharded.files().size(), 2u);
  ASSERT_EQ(sharded.tensors().size(), 3u);
  EXPECT_EQ(sharded.tensors()[2]->name, "c");
  const SafetensorsModel moved = std::move(sharded);
  EXPECT_EQ(moved.find("c")->data[0], 7);
}

TEST(SafetensorsModelTest, RejectsInconsistentShards) {
  ScratchDir dir;
  dir.write("m/s1.safetensors", safetensors_file({{"a", "F32", {1}, f32_bytes({1})}}));
  dir.write("m/s2.safetensors", safetensors_file({{"a", "F32", {1}, f32_bytes({1})}}));
  dir.write("m/model.safetensors.index.json", std::string(R"({"weight_map": {"a": "s1.safetensors", "b": "s2.safetensors"}})"));
  EXPECT_THROW(SafetensorsModel::open((dir.path() / "m").string()), FormatError);  // 'a' twice
  dir.write("n/s1.safetensors", safetensors_file({{"a", "F32", {1}, f32_bytes({1})}}));
  dir.write("n/model.safetensors.index.json", std::string(R"({"weight_map": {"a": "s1.safetensors", "z": "s1.safetensors"}})"));
  try {
    SafetensorsModel::open((dir.path() / "n").string());
    FAIL();
  } catch (const FormatError& e) {
    EXPECT_NE(std::string(e.what()).find("tensor 'z' is listed in 's1.safetensors' but that shard lacks it"),
              std::string::npos) << e.what();
  }
  EXPECT_THROW(SafetensorsModel::open((dir.path() / "missing").string()), FormatError);
  std::filesystem::create_directories(dir.path() / "emptydir");
  EXPECT_THROW(SafetensorsModel::open((dir.path() / "emptydir").string()), FormatError);
}

}  // namespace
}  // namespace circuit::formats
