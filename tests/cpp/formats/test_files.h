// Builders of small GGUF and safetensors files in memory, and a scratch folder, for the tests of
// the formats layer.
#pragma once

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <span>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace circuit::formats::testing {

// Appends little-endian GGUF pieces to a byte vector.
class GgufBuilder {
 public:
  explicit GgufBuilder(uint32_t version = 3, uint64_t alignment = 32) : version_(version), alignment_(alignment) {}

  GgufBuilder& kv_u32(const std::string& key, uint32_t v) { key_(key, 4); put(v); ++n_kv_; return *this; }
  GgufBuilder& kv_i32(const std::string& key, int32_t v) { key_(key, 5); put(v); ++n_kv_; return *this; }
  GgufBuilder& kv_u64(const std::string& key, uint64_t v) { key_(key, 10); put(v); ++n_kv_; return *this; }
  GgufBuilder& kv_f32(const std::string& key, float v) { key_(key, 6); put(v); ++n_kv_; return *this; }
  GgufBuilder& kv_f64(const std::string& key, double v) { key_(key, 12); put(v); ++n_kv_; return *this; }
  GgufBuilder& kv_bool(const std::string& key, bool v) { key_(key, 7); put<uint8_t>(v); ++n_kv_; return *this; }
  GgufBuilder& kv_i8(const std::string& key, int8_t v) { key_(key, 1); put(v); ++n_kv_; return *this; }
  GgufBuilder& kv_string(const std::string& key, const std::string& v) {
    key_(key, 8); str(kv_, v); ++n_kv_; return *this;
  }
  GgufBuilder& kv_strings(const std::string& key, const std::vector<std::string>& v) {
    key_(key, 9); put<uint32_t>(8); put<uint64_t>(v.size());
    for (const auto& s : v) str(kv_, s);
    ++n_kv_; return *this;
  }
  GgufBuilder& kv_i32s(const std::string& key, const std::vector<int32_t>& v) {
    key_(key, 9); put<uint32_t>(5); put<uint64_t>(v.size());
    for (int32_t x : v) put(x);
    ++n_kv_; return *this;
  }
  GgufBuilder& kv_f32s(const std::string& key, const std::vector<float>& v) {
    key_(key, 9); put<uint32_t>(6); put<uint64_t>(v.size());
    for (float x : v) put(x);
    ++n_kv_; return *this;
  }
  // A raw value of any type code (for nested arrays and wrong types).
  GgufBuilder& kv_raw(const std::string& key, uint32_t type, const std::vector<uint8_t>& payload) {
    key_(key, type); kv_.insert(kv_.end(), payload.begin(), payload.end()); ++n_kv_; return *this;
  }

  // A tensor with ggml dims (dims[0] fastest) and its raw data, placed at the next aligned offset.
  GgufBuilder& tensor(const std::string& name, std::vector<uint64_t> dims, uint32_t type,
                      const std::vector<uint8_t>& data) {
    str(infos_, name);
    put_to(infos_, static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) put_to(infos_, d);
    put_to(infos_, type);
    while (data_.size() % alignment_) data_.push_back(0);
    put_to(infos_, static_cast<uint64_t>(data_.size()));
    data_.insert(data_.end(), data.begin(), data.end());
    ++n_tensors_;
    return *this;
  }
  // A tensor info at a chosen data-section offset, with no data of its own: it points into
  // bytes other tensors placed (for overlapping layouts).
  GgufBuilder& tensor_at(const std::string& name, std::vector<uint64_t> dims, uint32_t type, uint64_t offset) {
    str(infos_, name);
    put_to(infos_, static_cast<uint32_t>(dims.size()));
    for (uint64_t d : dims) put_to(infos_, d);
    put_to(infos_, type);
    put_to(infos_, offset);
    ++n_tensors_;
    return *this;
  }
  GgufBuilder& tensor_f32(const std::string& name, std::vector<uint64_t> dims, const std::vector<float>& v) {
    std::vector<uint8_t> bytes(v.size() * 4);
    std::memcpy(bytes.data(), v.data(), bytes.size());
    return tensor(name, std::move(dims), 0, bytes);
  }

  std::vector<uint8_t> build() const {
    std::vector<uint8_t> out;
    put_to(out, uint32_t(0x46554747));
    put_to(out, version_);
    put_to(out, n_tensors_);
    put_to(out, n_kv_);
    out.insert(out.end(), kv_.begin(), kv_.end());
    out.insert(out.end(), infos_.begin(), infos_.end());
    while (out.size() % alignment_) out.push_back(0);
    out.insert(out.end(), data_.begin(), data_.end());
    return out;
  }

  template <typename T>
  static void put_to(std::vector<uint8_t>& out, T v) {
    uint8_t b[sizeof(T)];
    std::memcpy(b, &v, sizeof(T));
    out.insert(out.end(), b, b + sizeof(T));
  }
  static void str(std::vector<uint8_t>& out, const std::string& s) {
    put_to(out, static_cast<uint64_t>(s.size()));
    out.insert(out.end(), s.begin(), s.end());
  }

 private:
  template <typename T>
  void put(T v) { put_to(kv_, v); }
  void key_(const std::string& key, uint32_t type) { str(kv_, key); put_to(kv_, type); }

  uint32_t version_;
  uint64_t alignment_;
  uint64_t n_kv_ = 0;
  uint64_t n_tensors_ = 0;
  std::vector<uint8_t> kv_, infos_, data_;
};

// A safetensors file from a header JSON (data_offsets given by the caller) and the data.
inline std::vector<uint8_t> safetensors_bytes(const nlohmann::json& header, const std::vector<uint8_t>& data) {
  std::string text = header.dump();
  while ((8 + text.size()) % 8) text += ' ';
  std::vector<uint8_t> out;
  GgufBuilder::put_to(out, static_cast<uint64_t>(text.size()));
  out.insert(out.end(), text.begin(), text.end());
  out.insert(out.end(), data.begin(), data.end());
  return out;
}

// Lays tensors out back to back: each entry is name, dtype, shape, raw bytes.
struct StTensor {
  std::string name;
  std::string dtype;
  std::vector<int64_t> shape;
  std::vector<uint8_t> bytes;
};
inline std::vector<uint8_t> safetensors_file(const std::vector<StTensor>& tensors) {
  nlohmann::json header = nlohmann::json::object();
  std::vector<uint8_t> data;
  for (const auto& t : tensors) {
    header[t.name] = {{"dtype", t.dtype}, {"shape", t.shape}, {"data_offsets", {data.size(), data.size() + t.bytes.size()}}};
    data.insert(data.end(), t.bytes.begin(), t.bytes.end());
  }
  return safetensors_bytes(header, data);
}

inline std::vector<uint8_t> f32_bytes(const std::vector<float>& v) {
  std::vector<uint8_t> b(v.size() * 4);
  std::memcpy(b.data(), v.data(), b.size());
  return b;
}

// A fresh folder under the system temp dir, removed at the end of the test.
class ScratchDir {
 public:
  ScratchDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("circuit-formats-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~ScratchDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }
  std::string write(const std::string& relative, std::span<const uint8_t> bytes) const {
    const auto p = path_ / relative;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream out(p, std::ios::binary);
    out.write(reinterpret_cast<const char*>(bytes.data()), static_cast<std::streamsize>(bytes.size()));
    return p.string();
  }
  std::string write(const std::string& relative, const std::string& text) const {
    return write(relative, std::span<const uint8_t>(reinterpret_cast<const uint8_t*>(text.data()), text.size()));
  }

 private:
  std::filesystem::path path_;
};

}  // namespace circuit::formats::testing
