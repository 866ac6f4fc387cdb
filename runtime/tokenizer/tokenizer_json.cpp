// Reading a Hugging Face tokenizer.json into TokenizerData. Only what byte-level BPE
// tokenizers use is accepted; anything else (another model type, an unknown regex, a
// normalizer other than NFC) is a FormatError, never a silently different tokenization.
#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "runtime/formats/format_error.h"
#include "runtime/tokenizer/tokenizer.h"
#include "runtime/tokenizer/tokenizer_data.h"

namespace circuit::tok {
namespace {

using nlohmann::json;
using formats::FormatError;

[[noreturn]] void fail(const std::string& where, const std::string& reason) { throw FormatError(where, reason); }

const json& member(const json& obj, const char* key, const std::string& where, const std::string& path) {
  if (!obj.is_object() || !obj.contains(key)) fail(where, path + " has no '" + key + "'");
  return obj.at(key);
}

std::string type_of(const json& obj, const std::string& where, const std::string& path) {
  const json& t = member(obj, "type", where, path);
  if (!t.is_string()) fail(where, path + ".type is not a string");
  return t.get<std::string>();
}

bool flag(const json& obj, const char* key, bool fallback, const std::string& where, const std::string& path) {
  if (!obj.contains(key) || obj.at(key).is_null()) return fallback;
  if (!obj.at(key).is_boolean()) fail(where, path + "." + key + " is not a boolean");
  return obj.at(key).get<bool>();
}

void read_normalizer(const json& n, TokenizerData& d, const std::string& where, const std::string& path) {
  if (n.is_null()) return;
  const std::string type = type_of(n, where, path);
  if (type == "NFC") {
    d.nfc = true;
  } else if (type == "Sequence") {
    const json& list = member(n, "normalizers", where, path);
    if (!list.is_array()) fail(where, path + ".normalizers is not an array");
    for (std::size_t i = 0; i < list.size(); ++i) read_normalizer(list[i], d, where, path + ".normalizers[" + std::to_string(i) + "]");
  } else {
    fail(where, path + ": normalizer '" + type + "' is not supported (only NFC)");
  }
}

void read_pre_tokenizer(const json& p, TokenizerData& d, const std::string& where, const std::string& path) {
  if (p.is_null()) return;
  const std::string type = type_of(p, where, path);
  PreTokenizerStep step;
  if (type == "Sequence") {
    const json& list = member(p, "pretokenizers", where, path);
    if (!list.is_array()) fail(where, path + ".pretokenizers is not an array");
    for (std::size_t i = 0; i < list.size(); ++i) read_pre_tokenizer(list[i], d, where, path + ".pretokenizers[" + std::to_string(i) + "]");
    return;
  } else if (type == "ByteLevel") {
    step.kind = PreTokenizerStep::Kind::ByteLevel;
    step.add_prefix_space = flag(p, "add_prefix_space", true, where, path);
    step.use_regex = flag(p, "use_regex", true, where, path);
  } else if (type == "Digits") {
    step.kind = PreTokenizerStep::Kind::Digits;
    step.individual_digits = flag(p, "individual_digits", false, where, path);
  } else if (type == "Split") {
    step.kind = PreTokenizerStep::Kind::Split;
    const json& pattern = member(p, "pattern", where, path);
    if (!pattern.is_object() || !pattern.contains("Regex") || !pattern["Regex"].is_string())
      fail(where, path + ".pattern is not a {\"Regex\": ...}");
    const std::string regex = pattern["Regex"].get<std::string>();
    const auto known = split_pattern_from_regex(regex);
    if (!known) fail(where, path + ": split regex is not one of the supported ones (GPT-2, Llama 3, Qwen2): " + regex);
    step.pattern = *known;
    const json& behavior = member(p, "behavior", where, path);
    if (behavior == "Isolated") {
      step.remove_matches = false;
    } else if (behavior == "Removed") {
      step.remove_matches = true;
    } else {
      fail(where, path + ": split behavior " + behavior.dump() + " is not supported (Isolated, Removed)");
    }
    if (flag(p, "invert", false, where, path)) fail(where, path + ": inverted split is not supported");
  } else {
    fail(where, path + ": pre-tokenizer '" + type + "' is not supported");
  }
  d.pre_tokenizer.push_back(step);
}

// A token id: an integer from 0 to kMaxTokenId. Read as a 64-bit number and checked, so that
// 2^32 (or 2^64 - 1) is refused instead of wrapping to a small id.
constexpr long long kMaxTokenId = (1 << 24) - 1;

int token_id(const json& v, const std::string& where, const std::string& path) {
  if (!v.is_number_integer()) fail(where, path + " is not an integer");
  const bool in_range = v.is_number_unsigned() ? v.get<unsigned long long>() <= kMaxTokenId
                                               : v.get<long long>() >= 0 && v.get<long long>() <= kMaxTokenId;
  if (!in_range) fail(where, path + " = " + v.dump() + " is not a token id (0 to " + std::to_string(kMaxTokenId) + ")");
  return static_cast<int>(v.get<long long>());
}

// The ids of a post-processor special token given as [content, id] (Roberta/Bert style).
int pair_id(const json& v, const std::string& where, const std::string& path) {
  if (!v.is_array() || v.size() != 2 || !v[1].is_number_integer()) fail(where, path + " is not a [token, id] pair");
  return token_id(v[1], where, path + "[1]");
}

void read_post_processor(const json& p, TokenizerData& d, const std::string& where, const std::string& path) {
  if (p.is_null()) return;
  const std::string type = type_of(p, where, path);
  if (type == "ByteLevel") return;  // only trims offsets
  if (type == "Sequence") {
    const json& list = member(p, "processors", where, path);
    if (!list.is_array()) fail(where, path + ".processors is not an array");
    for (std::size_t i = 0; i < list.size(); ++i) read_post_processor(list[i], d, where, path + ".processors[" + std::to_string(i) + "]");
    return;
  }
  if (type == "RobertaProcessing" || type == "BertProcessing") {
    d.prefix_ids.push_back(pair_id(member(p, "cls", where, path), where, path + ".cls"));
    d.suffix_ids.push_back(pair_id(member(p, "sep", where, path), where, path + ".sep"));
    return;
  }
  if (type != "TemplateProcessing") fail(where, path + ": post-processor '" + type + "' is not supported");
  const json& single = member(p, "single", where, path);
  const json& specials = p.contains("special_tokens") ? p["special_tokens"] : json::object();
  if (!single.is_array()) fail(where, path + ".single is not an array");
  bool after_sequence = false;
  for (const json& item : single) {
    if (item.is_object() && item.contains("Sequence")) {
      after_sequence = true;
    } else if (item.is_object() && item.contains("SpecialToken") && item["SpecialToken"].contains("id")) {
      const json& name = item["SpecialToken"]["id"];
      if (!name.is_string() || !specials.is_object() || !specials.contains(name.get<std::string>()))
        fail(where, path + ": template token " + name.dump() + " is not in special_tokens");
      const json& ids = member(specials[name.get<std::string>()], "ids", where, path + ".special_tokens");
      if (!ids.is_array()) fail(where, path + ".special_tokens ids is not an array");
      for (const json& id : ids) {
        if (!id.is_number_integer()) fail(where, path + ".special_tokens ids holds a non-integer");
        (after_sequence ? d.suffix_ids : d.prefix_ids)
            .push_back(token_id(id, where, path + ".special_tokens['" + name.get<std::string>() + "'].ids"));
      }
    } else {
      fail(where, path + ".single holds an item that is neither Sequence nor SpecialToken");
    }
  }
}

std::vector<std::pair<std::string, std::string>> read_merges(const json& merges, const std::string& where) {
  std::vector<std::pair<std::string, std::string>> out;
  if (merges.is_null()) return out;
  if (!merges.is_array()) fail(where, "model.merges is not an array");
  out.reserve(merges.size());
  for (std::size_t i = 0; i < merges.size(); ++i) {
    const json& m = merges[i];
    if (m.is_string()) {
      const std::string s = m.get<std::string>();
      const auto space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        fail(where, "model.merges[" + std::to_string(i) + "] is not two tokens separated by one space: '" + s + "'");
      out.emplace_back(s.substr(0, space), s.substr(space + 1));
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      out.emplace_back(m[0].get<std::string>(), m[1].get<std::string>());
    } else {
      fail(where, "model.merges[" + std::to_string(i) + "] is neither \"a b\" nor [a, b]");
    }
  }
  return out;
}

void read_model(const json& m, TokenizerData& d, const std::string& where) {
  if (!m.is_object()) fail(where, "model is not an object");
  if (m.contains("type") && type_of(m, where, "model") != "BPE")
    fail(where, "model type '" + m["type"].get<std::string>() + "' is not supported (only BPE)");
  const json& vocab = member(m, "vocab", where, "model");
  if (!vocab.is_object()) fail(where, "model.vocab is not an object");
  std::unordered_map<std::string, int> v;
  v.reserve(vocab.size());
  for (const auto& [token, id] : vocab.items()) v.emplace(token, token_id(id, where, "model.vocab['" + token + "']"));
  if (flag(m, "byte_fallback", false, where, "model")) fail(where, "model.byte_fallback is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    if (m.contains(key) && !m[key].is_null() && m[key] != "") fail(where, std::string("model.") + key + " is not supported");
  }
  if (m.contains("dropout") && m["dropout"].is_number() && m["dropout"].get<double>() > 0.0)
    fail(where, "model.dropout is not supported");
  std::optional<int> unk;
  if (m.contains("unk_token") && m["unk_token"].is_string()) {
    const auto it = v.find(m["unk_token"].get<std::string>());
    if (it == v.end()) fail(where, "model.unk_token '" + m["unk_token"].get<std::string>() + "' is not in the vocabulary");
    unk = it->second;
  }
  // Byte-level models map bytes to characters; which one this is, the pre-tokenizer says.
  d.model = std::make_unique<BpeModel>(std::move(v), read_merges(m.contains("merges") ? m["merges"] : json(), where),
                                       std::any_of(d.pre_tokenizer.begin(), d.pre_tokenizer.end(),
                                                   [](const PreTokenizerStep& s) { return s.kind == PreTokenizerStep::Kind::ByteLevel; }),
                                       flag(m, "ignore_merges", false, where, "model"), unk, where);
}

void read_added_tokens(const json& list, TokenizerData& d, const std::string& where) {
  if (list.is_null()) return;
  if (!list.is_array()) fail(where, "added_tokens is not an array");
  for (std::size_t i = 0; i < list.size(); ++i) {
    const std::string path = "added_tokens[" + std::to_string(i) + "]";
    const json& t = list[i];
    const json& id = member(t, "id", where, path);
    const json& content = member(t, "content", where, path);
    if (!content.is_string()) fail(where, path + ".content is not a string");
    AddedToken a;
    a.id = token_id(id, where, path + ".id");
    a.content = content.get<std::string>();
    a.special = flag(t, "special", false, where, path);
    a.normalized = flag(t, "normalized", !a.special, where, path);
    a.lstrip = flag(t, "lstrip", false, where, path);
    a.rstrip = flag(t, "rstrip", false, where, path);
    a.single_word = flag(t, "single_word", false, where, path);
    d.added.push_back(std::move(a));
  }
}

// Which of the added tokens tokenizer_config.json names as bos_token / eos_token, if any.
std::optional<int> config_token(const json* config, const char* key, const TokenizerData& d) {
  if (!config || !config->is_object() || !config->contains(key)) return std::nullopt;
  const json& v = (*config)[key];
  std::string content;
  if (v.is_string()) {
    content = v.get<std::string>();
  } else if (v.is_object() && v.contains("content") && v["content"].is_string()) {
    content = v["content"].get<std::string>();
  } else {
    return std::nullopt;
  }
  const auto it = d.added_by_content.find(content);
  if (it != d.added_by_content.end()) return it->second;
  return d.model->id_of(content);
}

std::shared_ptr<TokenizerData> load(const json& doc, const std::string& where, const json* config) {
  if (!doc.is_object()) fail(where, "tokenizer.json is not a JSON object");
  auto d = std::make_shared<TokenizerData>();
  read_normalizer(doc.value("normalizer", json()), *d, where, "normalizer");
  read_pre_tokenizer(doc.value("pre_tokenizer", json()), *d, where, "pre_tokenizer");
  read_model(member(doc, "model", where, "tokenizer.json"), *d, where);
  read_added_tokens(doc.value("added_tokens", json()), *d, where);
  read_post_processor(doc.value("post_processor", json()), *d, where, "post_processor");
  const json decoder = doc.value("decoder", json());
  if (!decoder.is_null()) {
    const std::string type = type_of(decoder, where, "decoder");
    if (type != "ByteLevel") fail(where, "decoder '" + type + "' is not supported (only ByteLevel)");
  }
  d->byte_level_decoder = !decoder.is_null();
  d->finish();
  for (const auto* ids : {&d->prefix_ids, &d->suffix_ids}) {
    for (int id : *ids) {
      if (id < 0 || id >= d->vocab_size) fail(where, "post_processor adds id " + std::to_string(id) + ", outside the vocabulary");
    }
  }
  d->bos_id = config_token(config, "bos_token", *d);
  d->eos_id = config_token(config, "eos_token", *d);
  if (!d->prefix_ids.empty()) d->bos_id = d->prefix_ids.front();
  return d;
}

}  // namespace

Tokenizer Tokenizer::from_json(const json& doc, const std::string& where) {
  try {
    return Tokenizer(load(doc, where, nullptr));
  } catch (const json::exception& e) {  // a shape the checks above missed: still the file's fault
    fail(where, std::string("unexpected JSON structure: ") + e.what());
  }
}

Tokenizer Tokenizer::from_json_text(std::string_view text, const std::string& where) {
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) fail(where, "not valid JSON");
  return from_json(doc, where);
}

Tokenizer Tokenizer::from_json_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) fail(path, "is a folder, not a tokenizer.json");
  std::ifstream in(path, std::ios::binary);
  if (!in) fail(path, "cannot open the file");
  std::ostringstream buf;
  buf << in.rdbuf();
  const std::string text = buf.str();
  json doc = json::parse(text.begin(), text.end(), nullptr, false);
  if (doc.is_discarded()) fail(path, "not valid JSON");
  // bos_token / eos_token live in tokenizer_config.json beside it, when there is one.
  json config;
  const auto slash = path.find_last_of('/');
  std::ifstream cin(slash == std::string::npos ? "tokenizer_config.json" : path.substr(0, slash + 1) + "tokenizer_config.json");
  if (cin) {
    std::ostringstream cbuf;
    cbuf << cin.rdbuf();
    const std::string ctext = cbuf.str();
    config = json::parse(ctext.begin(), ctext.end(), nullptr, false);
  }
  try {
    return Tokenizer(load(doc, path, config.is_discarded() ? nullptr : &config));
  } catch (const json::exception& e) {
    fail(path, std::string("unexpected JSON structure: ") + e.what());
  }
}

}  // namespace circuit::tok
