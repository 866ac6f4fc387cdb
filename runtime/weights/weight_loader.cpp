// Reads stored tensors by the family table's rules: from the mapped safetensors bytes or the
// dequantized GGUF data to the target dtype and device, one tensor at a time.
#include "runtime/weights/weight_loader.h"

#include <ATen/ATen.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <stdexcept>

#include "runtime/formats/format_error.h"
#include "runtime/formats/gguf_reader.h"
#include "runtime/formats/safetensors_reader.h"

namespace circuit::rt {

using formats::FormatError;

namespace {

std::string layer_name(const char* pattern, int layer) {
  std::string s = pattern;
  size_t at = s.find("%d");
  if (at != std::string::npos) s.replace(at, 2, std::to_string(layer));
  at = s.find("{l}");
  if (at != std::string::npos) s.replace(at, 3, std::to_string(layer));
  return s;
}

bool per_layer(const TensorRule& rule) { return std::string(rule.slot).find("{l}") != std::string::npos; }

c10::ScalarType torch_dtype(formats::SafetensorsDtype d, const std::string& where) {
  using SD = formats::SafetensorsDtype;
  switch (d) {
    case SD::F64: return at::kDouble;
    case SD::F32: return at::kFloat;
    case SD::F16: return at::kHalf;
    case SD::BF16: return at::kBFloat16;
    default: throw FormatError(where, std::string("tensor dtype ") + formats::safetensors_dtype_name(d) +
                                          " is not a floating-point weight");
  }
}

// The converted tensor owns its memory (never a view into the mapped file or a buffer).
at::Tensor finish(const at::Tensor& stored_view, const at::Tensor& converted, c10::Device device,
                  c10::ScalarType dtype) {
  auto out = converted.to(device, dtype).contiguous();
  if (out.storage().is_alias_of(stored_view.storage())) out = out.clone();
  return out;
}

// Fills slots from stored tensors found by `lookup` (null when absent).
using Lookup = std::function<at::Tensor(const std::string& name, bool& found)>;

WeightMap load_by_rules(const std::vector<TensorRule>& rules, const formats::ModelConfig& config,
                        const Lookup& lookup, c10::Device device, c10::ScalarType dtype,
                        const std::string& where) {
  WeightMap out;
  auto load_one = [&](const TensorRule& rule, int layer) {
    const std::string source = layer_name(rule.source, layer);
    bool found = false;
    at::Tensor stored = lookup(source, found);
    if (!found) {
      if (rule.optional) return;
      throw FormatError(where, "missing tensor '" + source + "'");
    }
    at::Tensor shaped = apply_layout(stored, rule.layout, rule.part, config);
    out[layer_name(rule.slot, layer)] = finish(stored, shaped, device, dtype);
  };
  for (const TensorRule& rule : rules) {
    if (per_layer(rule)) {
      for (int l = 0; l < config.n_layers; ++l) load_one(rule, l);
    } else {
      load_one(rule, -1);
    }
  }
  return out;
}

WeightMap load_safetensors(const formats::ModelSource& source, c10::Device device, c10::ScalarType dtype) {
  const FamilyRow& row = family_row(source.config.family);
  const std::string where = source.weights.size() == 1 ? source.weights[0] : source.dir;
  auto model = formats::SafetensorsModel::open(source.weights.size() == 1 ? source.weights[0] : source.dir);
  Lookup lookup = [&](const std::string& name, bool& found) -> at::Tensor {
    for (const std::string& prefix : row.hf_prefixes) {
      const formats::SafetensorsTensor* t = model.find(prefix + name);
      if (!t) continue;
      found = true;
      const auto type = torch_dtype(t->dtype, where + ": tensor '" + t->name + "'");
      // The mapped bytes are read-only; the view is only read before `finish` copies it.
      return at::from_blob(const_cast<uint8_t*>(t->data.data()), t->shape,
                           at::TensorOptions().dtype(type));
    }
    found = false;
    return {};
  };
  return load_by_rules(row.hf, source.config, lookup, device, dtype, where);
}

WeightMap load_gguf(const formats::ModelSource& source, c10::Device device, c10::ScalarType dtype) {
  const FamilyRow& row = family_row(source.config.family);
  const std::string& path = source.weights.at(0);
  auto gguf = formats::GgufFile::open(path);
  const std::string arch = gguf.find_string("general.architecture").value_or("");
  const bool permuted = std::find(row.gguf_permuted_archs.begin(), row.gguf_permuted_archs.end(),
                                  arch) != row.gguf_permuted_archs.end();
  if (row.gguf.empty())
    throw FormatError(path, std::string("GGUF weights of the ") + formats::family_name(row.family) +
                                " family are not supported");
  std::vector<TensorRule> rules = row.gguf;
  if (!permuted) {
    for (auto& rule : rules)
      if (rule.layout == Layout::GgufRopeQ || rule.layout == Layout::GgufRopeK) rule.layout = Layout::AsIs;
  }
  Lookup lookup = [&](const std::string& name, bool& found) -> at::Tensor {
    const formats::GgufTensorInfo* info = gguf.find_tensor(name);
    found = info != nullptr;
    if (!info) return {};
    auto values = std::make_shared<std::vector<float>>(gguf.dequantize_tensor(*info));
    // The buffer lives until the tensor built over it is gone (the deleter owns it).
    auto holder = new std::shared_ptr<std::vector<float>>(values);
    return at::from_blob(values->data(), info->row_major_shape(),
                         [holder](void*) { delete holder; }, at::TensorOptions().dtype(at::kFloat));
  };
  return load_by_rules(rules, source.config, lookup, device, dtype, path);
}

}  // namespace

WeightMap load_weight_map(const formats::ModelSource& source, c10::Device device, c10::ScalarType dtype) {
  if (source.kind == formats::ModelKind::Gguf) return load_gguf(source, device, dtype);
  return load_safetensors(source, device, dtype);
}

}  // namespace circuit::rt
