// MappedFile: a read-only memory map of a whole file, the zero-copy base under the GGUF and
// safetensors readers of the formats layer. Movable, not copyable; unmaps on destruction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace circuit::formats {

class MappedFile {
 public:
  // Maps `path` read-only. Throws FormatError("<path>: <reason>") when it cannot be opened,
  // is not a regular file, or cannot be mapped. An empty file maps to an empty span.
  static MappedFile open(const std::string& path);

  MappedFile() = default;
  MappedFile(MappedFile&& other) noexcept;
  MappedFile& operator=(MappedFile&& other) noexcept;
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;
  ~MappedFile();

  const std::string& path() const { return path_; }
  size_t size() const { return size_; }
  std::span<const uint8_t> bytes() const { return {data_, size_}; }

 private:
  void release() noexcept;

  std::string path_;
  const uint8_t* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace circuit::formats
