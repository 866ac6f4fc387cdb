// The encode / decode pipeline of Tokenizer: added tokens, then the normalizer, then the
// pre-tokenizer steps, then BPE per word, then the post-processor's ids.
#include "runtime/tokenizer/tokenizer.h"

#include "runtime/tokenizer/byte_level.h"
#include "runtime/tokenizer/nfc.h"
#include "runtime/tokenizer/tokenizer_data.h"
#include "runtime/tokenizer/utf8.h"

namespace circuit::tok {
namespace {

using Pieces = std::vector<std::string>;

// Cuts `piece` at `ranges` (sorted, non-overlapping byte ranges), keeping the text between
// them, and the ranges themselves unless `drop_ranges`. Empty pieces are dropped, as HF does.
void cut(const std::string& piece, const std::vector<std::pair<std::size_t, std::size_t>>& ranges,
         bool drop_ranges, Pieces& out) {
  std::size_t done = 0;
  for (const auto& [b, e] : ranges) {
    if (done < b) out.push_back(piece.substr(done, b - done));
    if (!drop_ranges && b < e) out.push_back(piece.substr(b, e - b));
    done = e;
  }
  if (done < piece.size()) out.push_back(piece.substr(done));
}

Pieces apply_step(const PreTokenizerStep& step, Pieces in) {
  Pieces out;
  out.reserve(in.size() * 2);
  for (std::string& piece : in) {
    switch (step.kind) {
      case PreTokenizerStep::Kind::Split:
        cut(piece, find_matches(step.pattern, piece), step.remove_matches, out);
        break;
      case PreTokenizerStep::Kind::Digits:
        cut(piece, find_digits(piece, step.individual_digits), false, out);
        break;
      case PreTokenizerStep::Kind::ByteLevel:
        if (step.add_prefix_space && !piece.empty() && piece[0] != ' ') piece.insert(piece.begin(), ' ');
        if (step.use_regex) {
          cut(piece, find_matches(SplitPattern::Gpt2, piece), false, out);
        } else if (!piece.empty()) {
          out.push_back(std::move(piece));
        }
        break;
    }
  }
  return out;
}

}  // namespace

void TokenizerData::finish() {
  std::vector<AddedToken> raw, normalized;
  added_by_id.clear();
  added_by_content.clear();
  vocab_size = model ? model->size() : 0;
  for (const AddedToken& t : added) {
    (t.normalized ? normalized : raw).push_back(t);
    added_by_id[t.id] = &t;
    added_by_content.emplace(t.content, t.id);
    if (t.id + 1 > vocab_size) vocab_size = t.id + 1;
  }
  raw_matcher = AddedTokenMatcher(std::move(raw));
  normalized_matcher = AddedTokenMatcher(std::move(normalized));
}

Tokenizer::Tokenizer(std::shared_ptr<const TokenizerData> data) : data_(std::move(data)) {}

std::vector<int> Tokenizer::encode(std::string_view text, bool add_special_tokens) const {
  const TokenizerData& d = *data_;
  std::vector<int> ids;
  if (add_special_tokens) ids = d.prefix_ids;
  auto encode_text = [&](std::string_view plain) {
    Pieces pieces{std::string(plain)};
    for (const PreTokenizerStep& step : d.pre_tokenizer) pieces = apply_step(step, std::move(pieces));
    for (const std::string& p : pieces) d.model->encode_word(p, ids);
  };
  for (const Segment& seg : d.raw_matcher.split(text)) {
    if (seg.id) {
      ids.push_back(*seg.id);
      continue;
    }
    const std::string_view part = text.substr(seg.begin, seg.end - seg.begin);
    const std::string normal = d.nfc ? nfc(part) : std::string(part);
    for (const Segment& inner : d.normalized_matcher.split(normal)) {
      if (inner.id) {
        ids.push_back(*inner.id);
      } else {
        encode_text(std::string_view(normal).substr(inner.begin, inner.end - inner.begin));
      }
    }
  }
  if (add_special_tokens) ids.insert(ids.end(), d.suffix_ids.begin(), d.suffix_ids.end());
  return ids;
}

std::vector<std::string> Tokenizer::pieces(std::string_view text) const {
  std::vector<std::string> out;
  for (int id : encode(text, false)) out.push_back(token_text(id));
  return out;
}

std::string Tokenizer::raw_token(int id) const {
  const auto it = data_->added_by_id.find(id);
  if (it != data_->added_by_id.end()) return it->second->content;
  const std::string* t = data_->model->token_of(id);
  return t ? *t : std::string();
}

std::string Tokenizer::decode(std::span<const int> ids) const {
  std::string bytes;
  bool first = true;
  for (int id : ids) {
    if (id < 0 || id >= data_->vocab_size) continue;
    const std::string raw = raw_token(id);
    if (data_->byte_level_decoder) {
      // A token holding characters outside the byte map (an added token) is taken as UTF-8.
      const auto b = mapped_to_bytes(raw);
      bytes += b ? *b : raw;
    } else {
      if (!first) bytes += ' ';
      bytes += raw;
    }
    first = false;
  }
  return to_valid_utf8(bytes);
}

std::string Tokenizer::token_text(int id) const {
  const int one[] = {id};
  return decode(one);
}

std::optional<int> Tokenizer::token_id(std::string_view token) const {
  const auto added = data_->added_by_content.find(std::string(token));
  if (added != data_->added_by_content.end()) return added->second;
  return data_->model->id_of(data_->model->byte_level() ? bytes_to_mapped(token) : std::string(token));
}

int Tokenizer::vocab_size() const { return data_->vocab_size; }
std::optional<int> Tokenizer::bos_id() const { return data_->bos_id; }
std::optional<int> Tokenizer::eos_id() const { return data_->eos_id; }
bool Tokenizer::adds_bos() const {
  return data_->bos_id && !data_->prefix_ids.empty() && data_->prefix_ids.front() == *data_->bos_id;
}
const std::vector<int>& Tokenizer::prefix_ids() const { return data_->prefix_ids; }
const std::vector<int>& Tokenizer::suffix_ids() const { return data_->suffix_ids; }
bool Tokenizer::is_special(int id) const {
  const auto it = data_->added_by_id.find(id);
  return it != data_->added_by_id.end() && it->second->special;
}

}  // namespace circuit::tok
