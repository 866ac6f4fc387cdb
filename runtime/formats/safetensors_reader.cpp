#include "runtime/formats/safetensors_reader.h"

#include <algorithm>
#include <cstring>
#include <filesystem>
#include <limits>

#include <nlohmann/json.hpp>

#include "runtime/formats/format_error.h"
#include "runtime/formats/mapped_file.h"

namespace circuit::formats {
namespace {

using nlohmann::json;
namespace fs = std::filesystem;

constexpr uint64_t kMaxHeaderBytes = uint64_t(100) << 20;  // as the reference implementation

struct DtypeRow {
  SafetensorsDtype dtype;
  const char* name;
  size_t size;
};
constexpr DtypeRow kDtypes[] = {
    {SafetensorsDtype::F64, "F64", 8}, {SafetensorsDtype::F32, "F32", 4},
    {SafetensorsDtype::F16, "F16", 2}, {SafetensorsDtype::BF16, "BF16", 2},
    {SafetensorsDtype::I64, "I64", 8}, {SafetensorsDtype::I32, "I32", 4},
    {SafetensorsDtype::I8, "I8", 1},   {SafetensorsDtype::U8, "U8", 1},
    {SafetensorsDtype::Bool, "BOOL", 1},
};

std::string short_json(const json& j) {
  std::string s = j.dump();
  return s.size() > 60 ? s.substr(0, 57) + "..." : s;
}

uint64_t read_offset(const json& j, const std::string& where, const std::string& name) {
  if (!j.is_number_unsigned())
    throw FormatError(where, "tensor '" + name + "': data_offsets must be non-negative integers, got " +
                                 short_json(j));
  return j.get<uint64_t>();
}

json parse_json(std::span<const uint8_t> bytes, const std::string& where, const char* what) {
  try {
    return json::parse(bytes.begin(), bytes.end());
  } catch (const json::exception& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 1, column 5: ..."
    std::string message = e.what();
    auto at = message.find("] ");
    throw FormatError(where, std::string("invalid JSON in the ") + what + ": " +
                                 (at == std::string::npos ? message : message.substr(at + 2)));
  }
}

}  // namespace

const char* safetensors_dtype_name(SafetensorsDtype dtype) {
  for (const auto& row : kDtypes)
    if (row.dtype == dtype) return row.name;
  return "?";
}

size_t safetensors_dtype_size(SafetensorsDtype dtype) {
  for (const auto& row : kDtypes)
    if (row.dtype == dtype) return row.size;
  return 0;
}

SafetensorsFile SafetensorsFile::open(const std::string& path) {
  auto mapped = std::make_shared<const MappedFile>(MappedFile::open(path));
  SafetensorsFile file;
  file.file_ = mapped;
  file.bytes_ = mapped->bytes();
  file.where_ = path;
  file.parse_all();
  return file;
}

SafetensorsFile SafetensorsFile::parse(std::span<const uint8_t> bytes, std::string where) {
  SafetensorsFile file;
  file.bytes_ = bytes;
  file.where_ = std::move(where);
  file.parse_all();
  return file;
}

void SafetensorsFile::parse_all() {
  const std::string& where = where_;
  const uint64_t size = bytes_.size();
  if (size < 8)
    throw FormatError(where, "too short to be a safetensors file (" + std::to_string(size) + " bytes)");
  uint64_t header_len = 0;
  for (int k = 7; k >= 0; --k) header_len = (header_len << 8) | bytes_[k];
  if (header_len > size - 8)
    throw FormatError(where, "header length " + std::to_string(header_len) +
                                 " runs past the end of the file (" + std::to_string(size) + " bytes)");
  if (header_len > kMaxHeaderBytes)
    throw FormatError(where, "header length " + std::to_string(header_len) + " exceeds 100 MiB");
  if (header_len < 2) throw FormatError(where, "header is too short to be a JSON object");
  if (bytes_[8] != '{') throw FormatError(where, "header does not start with '{'");
  const json header = parse_json(bytes_.subspan(8, header_len), where, "header");
  if (!header.is_object()) throw FormatError(where, "header is not a JSON object");

  const std::span<const uint8_t> data = bytes_.subspan(8 + header_len);
  for (const auto& [name, entry] : header.items()) {
    if (name == "__metadata__") {
      if (!entry.is_object()) throw FormatError(where, "__metadata__ is not an object");
      for (const auto& [key, value] : entry.items()) {
        if (!value.is_string())
          throw FormatError(where, "__metadata__ '" + key + "' is not a string");
        metadata_[key] = value.get<std::string>();
      }
      continue;
    }
    if (!entry.is_object()) throw FormatError(where, "tensor '" + name + "' is not an object");
    SafetensorsTensor tensor;
    tensor.name = name;

    auto dtype_it = entry.find("dtype");
    if (dtype_it == entry.end() || !dtype_it->is_string())
      throw FormatError(where, "tensor '" + name + "' has no string 'dtype'");
    const std::string dtype = dtype_it->get<std::string>();
    const DtypeRow* row = nullptr;
    for (const auto& r : kDtypes)
      if (dtype == r.name) row = &r;
    if (!row)
      throw FormatError(where, "tensor '" + name + "' has unsupported dtype '" + dtype +
                                   "' (supported: F64, F32, F16, BF16, I64, I32, I8, U8, BOOL)");
    tensor.dtype = row->dtype;

    auto shape_it = entry.find("shape");
    if (shape_it == entry.end() || !shape_it->is_array())
      throw FormatError(where, "tensor '" + name + "' has no 'shape' array");
    tensor.n_elements = 1;
    for (const json& dim : *shape_it) {
      if (!dim.is_number_unsigned() ||
          dim.get<uint64_t>() > uint64_t(std::numeric_limits<int64_t>::max()))
        throw FormatError(where, "tensor '" + name + "' has a bad dimension " + short_json(dim));
      const uint64_t d = dim.get<uint64_t>();
      if (__builtin_mul_overflow(tensor.n_elements, d, &tensor.n_elements))
        throw FormatError(where, "tensor '" + name + "' has an absurd shape");
      tensor.shape.push_back(static_cast<int64_t>(d));
    }

    auto offsets_it = entry.find("data_offsets");
    if (offsets_it == entry.end() || !offsets_it->is_array() || offsets_it->size() != 2)
      throw FormatError(where, "tensor '" + name + "' has no 'data_offsets' pair");
    const uint64_t begin = read_offset((*offsets_it)[0], where, name);
    const uint64_t end = read_offset((*offsets_it)[1], where, name);
    if (begin > end)
      throw FormatError(where, "tensor '" + name + "' data_offsets [" + std::to_string(begin) + ", " +
                                   std::to_string(end) + "] are misordered");
    if (end > data.size())
      throw FormatError(where, "tensor '" + name + "' data ends at byte " +
                                   std::to_string(8 + header_len + end) + " but the file has " +
                                   std::to_string(size) + " bytes");
    uint64_t expected = 0;
    if (__builtin_mul_overflow(tensor.n_elements, row->size, &expected) || expected != end - begin)
      throw FormatError(where, "tensor '" + name + "' has " + std::to_string(end - begin) +
                                   " bytes but its shape and dtype " + dtype + " need " +
                                   (expected == 0 && tensor.n_elements != 0 ? std::string("more")
                                                                            : std::to_string(expected)));
    tensor.data = data.subspan(begin, end - begin);
    tensors_.push_back(std::move(tensor));
  }

  // Tensors must not share bytes (the writer lays them out back to back).
  std::vector<const SafetensorsTensor*> by_offset;
  for (const auto& t : tensors_) by_offset.push_back(&t);
  std::sort(by_offset.begin(), by_offset.end(), [](auto* a, auto* b) {
    return a->data.data() != b->data.data() ? a->data.data() < b->data.data() : a->data.size() < b->data.size();
  });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const auto* prev = by_offset[k - 1];
    const auto* cur = by_offset[k];
    if (prev->data.data() + prev->data.size() > cur->data.data() && !cur->data.empty())
      throw FormatError(where, "tensors '" + prev->name + "' and '" + cur->name + "' overlap");
  }

  std::sort(tensors_.begin(), tensors_.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  for (size_t k = 0; k < tensors_.size(); ++k) index_.emplace(tensors_[k].name, k);
}

const SafetensorsTensor* SafetensorsFile::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

SafetensorsIndex parse_safetensors_index(std::span<const uint8_t> bytes, const std::string& where) {
  const json index = parse_json(bytes, where, "index");
  if (!index.is_object()) throw FormatError(where, "index is not a JSON object");
  auto map_it = index.find("weight_map");
  if (map_it == index.end()) throw FormatError(where, "missing field 'weight_map'");
  if (!map_it->is_object()) throw FormatError(where, "'weight_map' is not an object");
  SafetensorsIndex out;
  for (const auto& [name, shard] : map_it->items()) {
    if (!shard.is_string())
      throw FormatError(where, "weight_map entry '" + name + "' is not a file name");
    const std::string file = shard.get<std::string>();
    if (file.empty() || file == "." || file == ".." || file.find('/') != std::string::npos ||
        file.find('\\') != std::string::npos || file.find('\0') != std::string::npos)
      throw FormatError(where, "weight_map entry '" + name + "' names '" + file +
                                   "', which is not a plain file name");
    out.weight_map.emplace(name, file);
    out.shards.push_back(file);
  }
  std::sort(out.shards.begin(), out.shards.end());
  out.shards.erase(std::unique(out.shards.begin(), out.shards.end()), out.shards.end());
  return out;
}

SafetensorsModel SafetensorsModel::open(const std::string& path) {
  SafetensorsModel model;
  std::error_code ec;
  std::string target = path;
  if (fs::is_directory(path, ec)) {
    const fs::path dir(path);
    if (fs::exists(dir / "model.safetensors.index.json", ec))
      target = (dir / "model.safetensors.index.json").string();
    else if (fs::exists(dir / "model.safetensors", ec))
      target = (dir / "model.safetensors").string();
    else
      throw FormatError(path, "no model.safetensors or model.safetensors.index.json in this folder");
  }
  const bool is_index = target.size() >= 5 && target.compare(target.size() - 5, 5, ".json") == 0;
  if (!is_index) {
    model.files_.push_back(SafetensorsFile::open(target));
    model.index_tensors(target);
    return model;
  }

  const MappedFile index_file = MappedFile::open(target);
  const SafetensorsIndex index = parse_safetensors_index(index_file.bytes(), target);
  if (index.shards.empty()) throw FormatError(target, "weight_map is empty");
  const fs::path dir = fs::path(target).parent_path();
  for (const std::string& shard : index.shards) model.files_.push_back(SafetensorsFile::open((dir / shard).string()));
  model.index_tensors(target);
  for (const auto& [name, shard] : index.weight_map) {
    const SafetensorsTensor* t = model.find(name);
    const std::string shard_path = (dir / shard).string();
    bool in_shard = false;
    for (const auto& f : model.files_)
      if (f.path() == shard_path && f.find(name) == t && t) in_shard = true;
    if (!in_shard)
      throw FormatError(target, "tensor '" + name + "' is listed in '" + shard + "' but that shard lacks it");
  }
  return model;
}

void SafetensorsModel::index_tensors(const std::string& where) {
  for (const SafetensorsFile& f : files_) {
    for (const SafetensorsTensor& t : f.tensors()) {
      if (!by_name_.emplace(t.name, &t).second)
        throw FormatError(where, "tensor '" + t.name + "' appears in two shards");
      tensors_.push_back(&t);
    }
  }
  std::sort(tensors_.begin(), tensors_.end(), [](auto* a, auto* b) { return a->name < b->name; });
}

const SafetensorsTensor* SafetensorsModel::find(const std::string& name) const {
  auto it = by_name_.find(name);
  return it == by_name_.end() ? nullptr : it->second;
}

}  // namespace circuit::formats
