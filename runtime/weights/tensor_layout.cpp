// Layout changes from stored tensors to the runtime's canonical slots (see Layout in
// runtime/model/families.h). Each returns a view where it can; the loader copies once.
#include <ATen/ATen.h>

#include <stdexcept>

#include "runtime/weights/weight_loader.h"

namespace circuit::rt {

at::Tensor unpermute_gguf_rope_rows(const at::Tensor& stored, int heads) {
  // llama.cpp wrote rows as [head, d_head/2, 2] (pairs interleaved); HF's are [head, 2, d_head/2].
  auto shape = stored.sizes().vec();
  std::vector<int64_t> split = {heads, stored.size(0) / heads / 2, 2};
  for (size_t i = 1; i < shape.size(); ++i) split.push_back(shape[i]);
  return stored.reshape(split).transpose(1, 2).reshape(shape);
}

at::Tensor apply_layout(const at::Tensor& t, Layout layout, int part, const formats::ModelConfig& c) {
  const int kv = c.n_kv_heads > 0 ? c.n_kv_heads : c.n_heads;
  switch (layout) {
    case Layout::AsIs: return t;
    case Layout::Transpose: return t.t();
    case Layout::Split3: return t.chunk(3, 0).at(part);
    case Layout::Conv1DSplit3: return (t.dim() == 2 ? t.t() : t).chunk(3, 0).at(part);
    case Layout::NeoxSplit3: {
      auto shape = t.sizes().vec();
      std::vector<int64_t> grouped = {c.n_heads, 3, c.d_head};
      for (size_t i = 1; i < shape.size(); ++i) grouped.push_back(shape[i]);
      auto one = t.reshape(grouped).select(1, part);
      std::vector<int64_t> flat = {static_cast<int64_t>(c.n_heads) * c.d_head};
      for (size_t i = 1; i < shape.size(); ++i) flat.push_back(shape[i]);
      return one.reshape(flat);
    }
    case Layout::TlHeadsIn:  // W [head, d_model, d_head] -> [head*d_head, d_model]; b [head, d_head]
      if (t.dim() == 3) return t.permute({0, 2, 1}).reshape({t.size(0) * t.size(2), t.size(1)});
      return t.reshape({-1});
    case Layout::TlHeadsOut:  // [head, d_head, d_model] -> [d_model, head*d_head]
      return t.reshape({t.size(0) * t.size(1), t.size(2)}).t();
    case Layout::GgufRopeQ: return unpermute_gguf_rope_rows(t, c.n_heads);
    case Layout::GgufRopeK: return unpermute_gguf_rope_rows(t, kv);
  }
  throw std::logic_error("unknown layout");
}

}  // namespace circuit::rt
