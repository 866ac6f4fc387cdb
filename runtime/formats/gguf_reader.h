// GgufFile: a bounds-checked, zero-copy reader of GGUF v2/v3 model files (header, metadata,
// tensor infos, data section), part of the libtorch-free formats layer. The runtime loads
// weights through it, the tokenizer reads tokenizer.ggml.* metadata from it.
//
// Shapes: GGUF stores ggml dims, where dims[0] (ne[0]) is the fastest-varying one (the
// columns). The row-major (PyTorch) shape is the reverse: GgufTensorInfo::row_major_shape().
// Tensors are returned exactly as stored (llama's Q/K rows stay permuted as llama.cpp wrote them).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

#include "runtime/formats/dequantize.h"

namespace circuit::formats {

class MappedFile;

// Metadata value types, numbered as in the GGUF spec.
enum class GgufValueType : uint32_t {
  UInt8 = 0,
  Int8 = 1,
  UInt16 = 2,
  Int16 = 3,
  UInt32 = 4,
  Int32 = 5,
  Float32 = 6,
  Bool = 7,
  String = 8,
  Array = 9,
  UInt64 = 10,
  Int64 = 11,
  Float64 = 12,
};

// "uint32", "string", "array", ...
const char* gguf_value_type_name(GgufValueType type);

// One metadata value. Only the payload matching `type` is meaningful: unsigned integers in
// `u`, signed integers in `i`, Float32/Float64 in `f`, Bool in `b`, String in `s`. An Array has
// `element_type` and its elements in the one vector for that type: `uints` (UInt8..UInt64),
// `ints` (Int8..Int64), `floats`, `bools`, `strings`, or `items` (nested arrays). Arrays are
// stored compactly so that a hostile file cannot make the reader use much more memory than
// the file's own size.
struct GgufValue {
  GgufValueType type = GgufValueType::UInt8;
  uint64_t u = 0;
  int64_t i = 0;
  double f = 0.0;
  bool b = false;
  std::string s;
  GgufValueType element_type = GgufValueType::UInt8;
  std::vector<uint64_t> uints;
  std::vector<int64_t> ints;
  std::vector<double> floats;
  std::vector<bool> bools;
  std::vector<std::string> strings;
  std::vector<GgufValue> items;

  bool is_integer() const;  // any of the eight integer types
  bool is_float() const;    // Float32 or Float64
  size_t array_size() const;  // elements of an array (0 for a scalar)
};

struct GgufKeyValue {
  std::string key;
  GgufValue value;
};

struct GgufTensorInfo {
  std::string name;
  std::vector<uint64_t> dims;  // ggml order: dims[0] is the fastest-varying (columns)
  GgmlType type = GgmlType::F32;
  uint64_t offset = 0;         // from the start of the data section
  uint64_t n_elements = 0;     // product of dims
  uint64_t n_bytes = 0;        // bytes of data, from the type's block layout

  // The PyTorch (row-major) shape: dims reversed, e.g. token_embd.weight stored as
  // [d_model, d_vocab] in ggml order is [d_vocab, d_model] row-major.
  std::vector<int64_t> row_major_shape() const;
};

class GgufFile {
 public:
  // Maps and parses a file. Errors: FormatError("<path>: <reason>").
  static GgufFile open(const std::string& path);
  // Parses bytes owned by the caller (they must outlive the GgufFile); `where` names them in
  // errors. Used by fuzzers and tests.
  static GgufFile parse(std::span<const uint8_t> bytes, std::string where);

  const std::string& path() const { return where_; }
  uint32_t version() const { return version_; }
  uint64_t alignment() const { return alignment_; }      // general.alignment, default 32
  uint64_t data_offset() const { return data_offset_; }  // file offset of the data section
  std::span<const uint8_t> bytes() const { return bytes_; }

  // Metadata, in file order, and typed lookup. The get_* functions throw FormatError when
  // the key is missing or holds another type ("model.gguf: metadata 'llama.block_count' is a
  // string, expected an integer"); the find_* ones return nullopt when the key is missing
  // and throw on a wrong type. Integers of any width are accepted where they fit;
  // get_float also accepts integers.
  const std::vector<GgufKeyValue>& metadata() const { return metadata_; }
  bool has(const std::string& key) const;
  const GgufValue* find(const std::string& key) const;
  const GgufValue& get(const std::string& key) const;
  const std::string& get_string(const std::string& key) const;
  uint64_t get_uint(const std::string& key) const;
  int64_t get_int(const std::string& key) const;
  double get_float(const std::string& key) const;
  bool get_bool(const std::string& key) const;
  std::vector<std::string> get_string_array(const std::string& key) const;
  const std::vector<std::string>& string_array(const std::string& key) const;  // no copy
  std::vector<int64_t> get_int_array(const std::string& key) const;
  std::vector<double> get_float_array(const std::string& key) const;
  std::optional<std::string> find_string(const std::string& key) const;
  std::optional<uint64_t> find_uint(const std::string& key) const;
  std::optional<int64_t> find_int(const std::string& key) const;
  std::optional<double> find_float(const std::string& key) const;
  std::optional<bool> find_bool(const std::string& key) const;

  // Tensors in file order. Each one's data lies inside the file (checked when parsing).
  const std::vector<GgufTensorInfo>& tensors() const { return tensors_; }
  const GgufTensorInfo* find_tensor(const std::string& name) const;
  // The stored bytes of a tensor (no copy; valid while this GgufFile or its bytes live).
  std::span<const uint8_t> tensor_data(const GgufTensorInfo& info) const;
  // Dequantizes a tensor to float32 (ggml element order, i.e. row-major for
  // row_major_shape()). Throws FormatError for types dequantize() cannot decode.
  std::vector<float> dequantize_tensor(const GgufTensorInfo& info) const;

 private:
  GgufFile() = default;
  void parse_all();
  [[noreturn]] void fail(const std::string& reason) const;

  std::shared_ptr<const MappedFile> file_;  // null when parsing caller-owned bytes
  std::span<const uint8_t> bytes_;
  std::string where_;
  uint32_t version_ = 0;
  uint64_t alignment_ = 32;
  uint64_t data_offset_ = 0;
  std::vector<GgufKeyValue> metadata_;
  std::unordered_map<std::string, size_t> metadata_index_;
  std::vector<GgufTensorInfo> tensors_;
  std::unordered_map<std::string, size_t> tensor_index_;
};

}  // namespace circuit::formats
