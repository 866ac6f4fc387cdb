#include "runtime/formats/gguf_reader.h"

#include <algorithm>
#include <cstring>
#include <limits>

#include "runtime/formats/format_error.h"
#include "runtime/formats/mapped_file.h"

namespace circuit::formats {
namespace {

constexpr uint32_t kMagic = 0x46554747;  // "GGUF" read as a little-endian uint32
constexpr int kMaxArrayDepth = 8;        // nested arrays deeper than this are hostile
constexpr uint32_t kMaxDims = 8;         // ggml supports 4; leave room, refuse nonsense
constexpr uint64_t kMaxStringBytes = uint64_t(1) << 30;
constexpr uint64_t kMaxNestedArrays = 1 << 16;  // an empty nested array costs far more in memory than in the file

// Reads little-endian values from a byte span; every read is checked against the end and
// failures name what was being read.
class Cursor {
 public:
  Cursor(std::span<const uint8_t> bytes, const std::string& where) : bytes_(bytes), where_(where) {}

  size_t pos() const { return pos_; }
  size_t remaining() const { return bytes_.size() - pos_; }

  void need(uint64_t n, const char* what) const {
    if (n > remaining())
      throw FormatError(where_, std::string("truncated file: ") + what + " at byte " +
                                    std::to_string(pos_) + " needs " + std::to_string(n) +
                                    " bytes but only " + std::to_string(remaining()) + " remain");
  }
  template <typename T>
  T read(const char* what) {
    need(sizeof(T), what);
    T value;
    std::memcpy(&value, bytes_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return value;
  }
  std::string read_string(const char* what) {
    const uint64_t length = read<uint64_t>(what);
    if (length > kMaxStringBytes)
      throw FormatError(where_, std::string(what) + " at byte " + std::to_string(pos_ - 8) +
                                    " has an absurd length " + std::to_string(length));
    need(length, what);
    std::string s(reinterpret_cast<const char*>(bytes_.data() + pos_), length);
    pos_ += length;
    return s;
  }

 private:
  std::span<const uint8_t> bytes_;
  const std::string& where_;
  size_t pos_ = 0;
};

// Smallest encoded size of one value of `type` inside an array, to reject counts that could
// not possibly fit before allocating anything.
uint64_t min_encoded_size(GgufValueType type) {
  switch (type) {
    case GgufValueType::UInt8: case GgufValueType::Int8: case GgufValueType::Bool: return 1;
    case GgufValueType::UInt16: case GgufValueType::Int16: return 2;
    case GgufValueType::UInt32: case GgufValueType::Int32: case GgufValueType::Float32: return 4;
    case GgufValueType::UInt64: case GgufValueType::Int64: case GgufValueType::Float64: return 8;
    case GgufValueType::String: return 8;
    case GgufValueType::Array: return 12;
  }
  return 1;
}

bool valid_value_type(uint32_t t) { return t <= static_cast<uint32_t>(GgufValueType::Float64); }

GgufValue read_value(Cursor& in, GgufValueType type, const std::string& where,
                     const std::string& key, int depth);

// Reads `count` elements of v.element_type into the vector for that type.
void read_array(Cursor& in, GgufValue& v, uint64_t count, const std::string& where,
                const std::string& key, int depth) {
  switch (v.element_type) {
    case GgufValueType::UInt8: case GgufValueType::UInt16: case GgufValueType::UInt32:
    case GgufValueType::UInt64:
      v.uints.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.uints.push_back(read_value(in, v.element_type, where, key, depth + 1).u);
      break;
    case GgufValueType::Int8: case GgufValueType::Int16: case GgufValueType::Int32:
    case GgufValueType::Int64:
      v.ints.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.ints.push_back(read_value(in, v.element_type, where, key, depth + 1).i);
      break;
    case GgufValueType::Float32: case GgufValueType::Float64:
      v.floats.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.floats.push_back(read_value(in, v.element_type, where, key, depth + 1).f);
      break;
    case GgufValueType::Bool:
      v.bools.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.bools.push_back(read_value(in, v.element_type, where, key, depth + 1).b);
      break;
    case GgufValueType::String:
      v.strings.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.strings.push_back(in.read_string("a string array element"));
      break;
    case GgufValueType::Array:
      v.items.reserve(count);
      for (uint64_t k = 0; k < count; ++k) v.items.push_back(read_value(in, v.element_type, where, key, depth + 1));
      break;
  }
}

GgufValue read_value(Cursor& in, GgufValueType type, const std::string& where,
                     const std::string& key, int depth) {
  GgufValue v;
  v.type = type;
  switch (type) {
    case GgufValueType::UInt8: v.u = in.read<uint8_t>("a uint8 value"); break;
    case GgufValueType::Int8: v.i = in.read<int8_t>("an int8 value"); break;
    case GgufValueType::UInt16: v.u = in.read<uint16_t>("a uint16 value"); break;
    case GgufValueType::Int16: v.i = in.read<int16_t>("an int16 value"); break;
    case GgufValueType::UInt32: v.u = in.read<uint32_t>("a uint32 value"); break;
    case GgufValueType::Int32: v.i = in.read<int32_t>("an int32 value"); break;
    case GgufValueType::UInt64: v.u = in.read<uint64_t>("a uint64 value"); break;
    case GgufValueType::Int64: v.i = in.read<int64_t>("an int64 value"); break;
    case GgufValueType::Float32: v.f = in.read<float>("a float32 value"); break;
    case GgufValueType::Float64: v.f = in.read<double>("a float64 value"); break;
    case GgufValueType::Bool: {
      const uint8_t b = in.read<uint8_t>("a bool value");
      if (b > 1)
        throw FormatError(where, "metadata '" + key + "' has bool value " + std::to_string(b));
      v.b = b != 0;
      break;
    }
    case GgufValueType::String: v.s = in.read_string("a string value"); break;
    case GgufValueType::Array: {
      if (depth >= kMaxArrayDepth)
        throw FormatError(where, "metadata '" + key + "' nests arrays more than " +
                                     std::to_string(kMaxArrayDepth) + " deep");
      const uint32_t element = in.read<uint32_t>("an array element type");
      if (!valid_value_type(element))
        throw FormatError(where, "metadata '" + key + "' has an array of unknown value type " +
                                     std::to_string(element));
      v.element_type = static_cast<GgufValueType>(element);
      const uint64_t count = in.read<uint64_t>("an array length");
      const uint64_t min_size = min_encoded_size(v.element_type);
      if (count > in.remaining() / min_size)
        throw FormatError(where, "metadata '" + key + "' claims " + std::to_string(count) +
                                     " array elements but only " + std::to_string(in.remaining()) +
                                     " bytes remain");
      if (v.element_type == GgufValueType::Array && count > kMaxNestedArrays)
        throw FormatError(where, "metadata '" + key + "' holds " + std::to_string(count) +
                                     " nested arrays (at most " + std::to_string(kMaxNestedArrays) + ")");
      read_array(in, v, count, where, key, depth);
      break;
    }
  }
  return v;
}

std::string describe_type(const GgufValue& v) {
  if (v.type == GgufValueType::Array)
    return std::string("an array of ") + gguf_value_type_name(v.element_type);
  return std::string("a ") + gguf_value_type_name(v.type);
}

bool mul_overflows(uint64_t a, uint64_t b, uint64_t& out) { return __builtin_mul_overflow(a, b, &out); }

}  // namespace

const char* gguf_value_type_name(GgufValueType type) {
  switch (type) {
    case GgufValueType::UInt8: return "uint8";
    case GgufValueType::Int8: return "int8";
    case GgufValueType::UInt16: return "uint16";
    case GgufValueType::Int16: return "int16";
    case GgufValueType::UInt32: return "uint32";
    case GgufValueType::Int32: return "int32";
    case GgufValueType::Float32: return "float32";
    case GgufValueType::Bool: return "bool";
    case GgufValueType::String: return "string";
    case GgufValueType::Array: return "array";
    case GgufValueType::UInt64: return "uint64";
    case GgufValueType::Int64: return "int64";
    case GgufValueType::Float64: return "float64";
  }
  return "unknown";
}

bool GgufValue::is_integer() const {
  switch (type) {
    case GgufValueType::UInt8: case GgufValueType::Int8: case GgufValueType::UInt16:
    case GgufValueType::Int16: case GgufValueType::UInt32: case GgufValueType::Int32:
    case GgufValueType::UInt64: case GgufValueType::Int64:
      return true;
    default:
      return false;
  }
}

size_t GgufValue::array_size() const {
  if (type != GgufValueType::Array) return 0;
  return uints.size() + ints.size() + floats.size() + bools.size() + strings.size() + items.size();
}

bool GgufValue::is_float() const {
  return type == GgufValueType::Float32 || type == GgufValueType::Float64;
}

std::vector<int64_t> GgufTensorInfo::row_major_shape() const {
  return std::vector<int64_t>(dims.rbegin(), dims.rend());
}

GgufFile GgufFile::open(const std::string& path) {
  auto mapped = std::make_shared<const MappedFile>(MappedFile::open(path));
  GgufFile file;
  file.file_ = mapped;
  file.bytes_ = mapped->bytes();
  file.where_ = path;
  file.parse_all();
  return file;
}

GgufFile GgufFile::parse(std::span<const uint8_t> bytes, std::string where) {
  GgufFile file;
  file.bytes_ = bytes;
  file.where_ = std::move(where);
  file.parse_all();
  return file;
}

void GgufFile::fail(const std::string& reason) const { throw FormatError(where_, reason); }

void GgufFile::parse_all() {
  Cursor in(bytes_, where_);
  if (bytes_.size() < 4) fail("too short to be a GGUF file (" + std::to_string(bytes_.size()) + " bytes)");
  const uint32_t magic = in.read<uint32_t>("the magic");
  if (magic != kMagic) fail("not a GGUF file (bad magic)");
  version_ = in.read<uint32_t>("the version");
  if (version_ != 2 && version_ != 3)
    fail("unsupported GGUF version " + std::to_string(version_) + " (supported: 2, 3)");
  const uint64_t n_tensors = in.read<uint64_t>("the tensor count");
  const uint64_t n_kv = in.read<uint64_t>("the metadata count");
  // Each key/value takes at least 13 bytes (key length, value type, one byte), each tensor
  // info at least 24 (name length, dim count, type, offset).
  if (n_kv > in.remaining() / 13)
    fail("claims " + std::to_string(n_kv) + " metadata entries but the file has " +
         std::to_string(bytes_.size()) + " bytes");
  if (n_tensors > in.remaining() / 24)
    fail("claims " + std::to_string(n_tensors) + " tensors but the file has " +
         std::to_string(bytes_.size()) + " bytes");

  metadata_.reserve(n_kv);
  for (uint64_t k = 0; k < n_kv; ++k) {
    std::string key = in.read_string("a metadata key");
    const uint32_t type = in.read<uint32_t>("a metadata value type");
    if (!valid_value_type(type))
      fail("metadata '" + key + "' has unknown value type " + std::to_string(type));
    GgufValue value = read_value(in, static_cast<GgufValueType>(type), where_, key, 0);
    if (metadata_index_.count(key)) fail("metadata key '" + key + "' appears twice");
    metadata_index_.emplace(key, metadata_.size());
    metadata_.push_back({std::move(key), std::move(value)});
  }

  if (const GgufValue* a = find("general.alignment")) {
    if (!a->is_integer()) fail("metadata 'general.alignment' is " + describe_type(*a) + ", expected an integer");
    const uint64_t align = a->type == GgufValueType::UInt8 || a->type == GgufValueType::UInt16 ||
                                   a->type == GgufValueType::UInt32 || a->type == GgufValueType::UInt64
                               ? a->u
                               : static_cast<uint64_t>(a->i);
    if (align == 0 || (align & (align - 1)) != 0 || align > (uint64_t(1) << 20))
      fail("general.alignment " + std::to_string(static_cast<int64_t>(align)) +
           " is not a power of two up to 1 MiB");
    alignment_ = align;
  }

  tensors_.reserve(n_tensors);
  for (uint64_t t = 0; t < n_tensors; ++t) {
    GgufTensorInfo info;
    info.name = in.read_string("a tensor name");
    const uint32_t n_dims = in.read<uint32_t>("a tensor's dimension count");
    if (n_dims > kMaxDims)
      fail("tensor '" + info.name + "' has " + std::to_string(n_dims) + " dimensions");
    info.n_elements = 1;
    for (uint32_t d = 0; d < n_dims; ++d) {
      const uint64_t dim = in.read<uint64_t>("a tensor dimension");
      if (dim > uint64_t(std::numeric_limits<int64_t>::max()) ||
          mul_overflows(info.n_elements, dim, info.n_elements))
        fail("tensor '" + info.name + "' has an absurd shape");
      info.dims.push_back(dim);
    }
    const uint32_t type = in.read<uint32_t>("a tensor type");
    if (!ggml_type_known(type))
      fail("tensor '" + info.name + "' has unknown ggml type " + std::to_string(type));
    info.type = static_cast<GgmlType>(type);
    info.offset = in.read<uint64_t>("a tensor offset");
    const GgmlTypeTraits traits = ggml_type_traits(info.type);
    if (!info.dims.empty() && info.dims[0] % traits.block_size != 0)
      fail("tensor '" + info.name + "' has " + std::to_string(info.dims[0]) +
           " columns, not a multiple of the " + ggml_type_name(info.type) + " block size " +
           std::to_string(traits.block_size));
    if (info.n_elements % traits.block_size != 0 ||
        mul_overflows(info.n_elements / traits.block_size, traits.type_size, info.n_bytes))
      fail("tensor '" + info.name + "' has an absurd shape");
    if (info.offset % alignment_ != 0)
      fail("tensor '" + info.name + "' offset " + std::to_string(info.offset) +
           " is not a multiple of the alignment " + std::to_string(alignment_));
    if (tensor_index_.count(info.name)) fail("tensor '" + info.name + "' appears twice");
    tensor_index_.emplace(info.name, tensors_.size());
    tensors_.push_back(std::move(info));
  }

  // The data section starts at the next multiple of the alignment.
  const uint64_t header_end = in.pos();
  data_offset_ = (header_end + alignment_ - 1) / alignment_ * alignment_;
  const uint64_t size = bytes_.size();
  for (const GgufTensorInfo& info : tensors_) {
    const unsigned __int128 end = static_cast<unsigned __int128>(data_offset_) + info.offset + info.n_bytes;
    if (end > size)
      fail("tensor '" + info.name + "' data ends at byte " +
           (end >> 64 ? std::string("beyond 2^64") : std::to_string(static_cast<uint64_t>(end))) +
           " but the file has " + std::to_string(size) + " bytes");
  }
  if (!tensors_.empty() && data_offset_ > size)
    fail("data section starts at byte " + std::to_string(data_offset_) + " but the file has " +
         std::to_string(size) + " bytes");

  // Tensors must not share bytes (writers lay them out one after another), as in safetensors.
  std::vector<const GgufTensorInfo*> by_offset;
  by_offset.reserve(tensors_.size());
  for (const GgufTensorInfo& info : tensors_)
    if (info.n_bytes > 0) by_offset.push_back(&info);
  std::sort(by_offset.begin(), by_offset.end(), [](const GgufTensorInfo* a, const GgufTensorInfo* b) {
    if (a->offset != b->offset) return a->offset < b->offset;
    return a->n_bytes != b->n_bytes ? a->n_bytes < b->n_bytes : a < b;  // ties in file order
  });
  for (size_t k = 1; k < by_offset.size(); ++k) {
    const GgufTensorInfo* prev = by_offset[k - 1];
    const GgufTensorInfo* cur = by_offset[k];
    if (prev->offset + prev->n_bytes > cur->offset)  // no overflow: both end inside the file
      fail("tensors '" + prev->name + "' and '" + cur->name + "' overlap (bytes " +
           std::to_string(cur->offset) + " to " + std::to_string(prev->offset + prev->n_bytes) +
           " of the data section)");
  }
}

bool GgufFile::has(const std::string& key) const { return metadata_index_.count(key) != 0; }

const GgufValue* GgufFile::find(const std::string& key) const {
  auto it = metadata_index_.find(key);
  return it == metadata_index_.end() ? nullptr : &metadata_[it->second].value;
}

const GgufValue& GgufFile::get(const std::string& key) const {
  const GgufValue* v = find(key);
  if (!v) fail("missing metadata '" + key + "'");
  return *v;
}

namespace {

[[noreturn]] void wrong_type(const std::string& where, const std::string& key, const GgufValue& v,
                             const char* expected) {
  throw FormatError(where, "metadata '" + key + "' is " + describe_type(v) + ", expected " + expected);
}

bool is_unsigned(GgufValueType t) {
  return t == GgufValueType::UInt8 || t == GgufValueType::UInt16 || t == GgufValueType::UInt32 ||
         t == GgufValueType::UInt64;
}

bool is_signed(GgufValueType t) {
  return t == GgufValueType::Int8 || t == GgufValueType::Int16 || t == GgufValueType::Int32 ||
         t == GgufValueType::Int64;
}

int64_t as_int(const std::string& where, const std::string& key, const GgufValue& v) {
  if (!v.is_integer()) wrong_type(where, key, v, "an integer");
  if (is_unsigned(v.type)) {
    if (v.u > uint64_t(std::numeric_limits<int64_t>::max()))
      throw FormatError(where, "metadata '" + key + "' value " + std::to_string(v.u) + " is too large");
    return static_cast<int64_t>(v.u);
  }
  return v.i;
}

uint64_t as_uint(const std::string& where, const std::string& key, const GgufValue& v) {
  if (!v.is_integer()) wrong_type(where, key, v, "an unsigned integer");
  if (is_unsigned(v.type)) return v.u;
  if (v.i < 0)
    throw FormatError(where, "metadata '" + key + "' is negative (" + std::to_string(v.i) + ")");
  return static_cast<uint64_t>(v.i);
}

double as_float(const std::string& where, const std::string& key, const GgufValue& v) {
  if (v.is_float()) return v.f;
  if (v.is_integer()) return is_unsigned(v.type) ? double(v.u) : double(v.i);
  wrong_type(where, key, v, "a number");
}

}  // namespace

const std::string& GgufFile::get_string(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::String) wrong_type(where_, key, v, "a string");
  return v.s;
}

uint64_t GgufFile::get_uint(const std::string& key) const { return as_uint(where_, key, get(key)); }
int64_t GgufFile::get_int(const std::string& key) const { return as_int(where_, key, get(key)); }
double GgufFile::get_float(const std::string& key) const { return as_float(where_, key, get(key)); }

bool GgufFile::get_bool(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::Bool) wrong_type(where_, key, v, "a bool");
  return v.b;
}

const std::vector<std::string>& GgufFile::string_array(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::Array || v.element_type != GgufValueType::String)
    wrong_type(where_, key, v, "an array of string");
  return v.strings;
}

std::vector<std::string> GgufFile::get_string_array(const std::string& key) const { return string_array(key); }

std::vector<int64_t> GgufFile::get_int_array(const std::string& key) const {
  const GgufValue& v = get(key);
  if (v.type != GgufValueType::Array || !(is_unsigned(v.element_type) || is_signed(v.element_type)))
    wrong_type(where_, key, v, "an array of integers");
  std::vector<int64_t> out(v.ints.begin(), v.ints.end());
  out.reserve(v.array_size());
  for (uint64_t x : v.uints) {
    if (x > uint64_t(std::numeric_limits<int64_t>::max()))
      throw FormatError(where_, "metadata '" + key + "' value " + std::to_string(x) + " is too large");
    out.push_back(static_cast<int64_t>(x));
  }
  return out;
}

std::vector<double> GgufFile::get_float_array(const std::string& key) const {
  const GgufValue& v = get(key);
  const GgufValueType e = v.element_type;
  if (v.type != GgufValueType::Array ||
      !(is_unsigned(e) || is_signed(e) || e == GgufValueType::Float32 || e == GgufValueType::Float64))
    wrong_type(where_, key, v, "an array of numbers");
  std::vector<double> out(v.floats.begin(), v.floats.end());
  out.reserve(v.array_size());
  for (int64_t x : v.ints) out.push_back(static_cast<double>(x));
  for (uint64_t x : v.uints) out.push_back(static_cast<double>(x));
  return out;
}

std::optional<std::string> GgufFile::find_string(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_string(key);
}
std::optional<uint64_t> GgufFile::find_uint(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_uint(key);
}
std::optional<int64_t> GgufFile::find_int(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_int(key);
}
std::optional<double> GgufFile::find_float(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_float(key);
}
std::optional<bool> GgufFile::find_bool(const std::string& key) const {
  if (!has(key)) return std::nullopt;
  return get_bool(key);
}

const GgufTensorInfo* GgufFile::find_tensor(const std::string& name) const {
  auto it = tensor_index_.find(name);
  return it == tensor_index_.end() ? nullptr : &tensors_[it->second];
}

std::span<const uint8_t> GgufFile::tensor_data(const GgufTensorInfo& info) const {
  // Bounds were checked when parsing; re-check so an info from another file cannot overrun.
  if (data_offset_ + info.offset + info.n_bytes > bytes_.size() || data_offset_ + info.offset < data_offset_)
    fail("tensor '" + info.name + "' lies outside this file");
  return bytes_.subspan(data_offset_ + info.offset, info.n_bytes);
}

std::vector<float> GgufFile::dequantize_tensor(const GgufTensorInfo& info) const {
  const std::string where = where_ + ": tensor '" + info.name + "'";
  if (!ggml_type_dequantizable(info.type)) {
    dequantize(info.type, {}, {}, where);  // throws the standard message
  }
  std::vector<float> out(info.n_elements);
  dequantize(info.type, tensor_data(info), out, where);
  return out;
}

}  // namespace circuit::formats
