// Readers of Hugging Face safetensors files, single and sharded (model.safetensors.index.json),
// part of the libtorch-free formats layer. The JSON header is bounds-checked; tensor data
// is never copied (the file is memory-mapped).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <unordered_map>
#include <vector>

namespace circuit::formats {

class MappedFile;

enum class SafetensorsDtype { F64, F32, F16, BF16, I64, I32, I8, U8, Bool };

const char* safetensors_dtype_name(SafetensorsDtype dtype);  // "F32", "BF16", ...
size_t safetensors_dtype_size(SafetensorsDtype dtype);        // bytes per element

struct SafetensorsTensor {
  std::string name;
  SafetensorsDtype dtype = SafetensorsDtype::F32;
  std::vector<int64_t> shape;      // row-major (PyTorch) shape
  uint64_t n_elements = 0;
  std::span<const uint8_t> data;   // exactly n_elements * dtype size bytes, no copy
};

// One .safetensors file: 8-byte little-endian header length, JSON header, data.
class SafetensorsFile {
 public:
  // Maps and parses a file. Errors: FormatError("<path>: <reason>").
  static SafetensorsFile open(const std::string& path);
  // Parses caller-owned bytes (they must outlive the result); used by fuzzers and tests.
  static SafetensorsFile parse(std::span<const uint8_t> bytes, std::string where);

  const std::string& path() const { return where_; }
  // Tensors sorted by name.
  const std::vector<SafetensorsTensor>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;
  // The header's "__metadata__" string map (empty when absent).
  const std::map<std::string, std::string>& metadata() const { return metadata_; }

 private:
  SafetensorsFile() = default;
  void parse_all();

  std::shared_ptr<const MappedFile> file_;
  std::span<const uint8_t> bytes_;
  std::string where_;
  std::vector<SafetensorsTensor> tensors_;
  std::unordered_map<std::string, size_t> index_;
  std::map<std::string, std::string> metadata_;
};

// The "weight_map" of a model.safetensors.index.json: tensor name -> shard file name.
struct SafetensorsIndex {
  std::map<std::string, std::string> weight_map;
  std::vector<std::string> shards;  // distinct shard file names, sorted
};

// Parses an index JSON. Shard names must be plain file names (no directories, no "..").
SafetensorsIndex parse_safetensors_index(std::span<const uint8_t> bytes, const std::string& where);

// A model's safetensors weights: one file or all shards of an index, with one name lookup.
class SafetensorsModel {
 public:
  SafetensorsModel() = default;
  SafetensorsModel(SafetensorsModel&&) = default;  // moving keeps the tensor pointers valid
  SafetensorsModel& operator=(SafetensorsModel&&) = default;
  SafetensorsModel(const SafetensorsModel&) = delete;
  SafetensorsModel& operator=(const SafetensorsModel&) = delete;

  // `path` is a .safetensors file, a *.safetensors.index.json, or a directory holding
  // model.safetensors or model.safetensors.index.json. Every shard is opened; a tensor
  // listed in the index but absent from its shard, or present in two shards, is an error.
  static SafetensorsModel open(const std::string& path);

  const std::vector<SafetensorsFile>& files() const { return files_; }
  // All tensors of all shards, sorted by name.
  const std::vector<const SafetensorsTensor*>& tensors() const { return tensors_; }
  const SafetensorsTensor* find(const std::string& name) const;

 private:
  void index_tensors(const std::string& where);

  std::vector<SafetensorsFile> files_;
  std::vector<const SafetensorsTensor*> tensors_;
  std::unordered_map<std::string, const SafetensorsTensor*> by_name_;
};

}  // namespace circuit::formats
