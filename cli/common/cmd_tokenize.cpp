// `circuit tokenize MODEL --text T | --file F`: shows how a model's tokenizer splits text
// (ids and pieces), or encodes a JSON-lines file of strings to one JSON array of ids per line
// for parity tests against Hugging Face.
#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <memory>

#include "command_registry.h"
#include "runtime/formats/format_error.h"
#include "runtime/formats/model_source.h"
#include "runtime/tokenizer/load_tokenizer.h"

namespace circuit::cli {
namespace {

struct TokenizeOptions {
  std::string model;
  std::string text;
  std::string file;
  bool json = false;
  bool no_special = false;
};

// MODEL: a tokenizer.json or .gguf file, a model folder, or a short name in the models folder.
tok::Tokenizer open_tokenizer(const std::string& model) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const fs::path p(model);
  if (fs::is_regular_file(p, ec) && (p.extension() == ".json" || p.extension() == ".gguf"))
    return tok::load_tokenizer_file(model);
  if (fs::is_directory(p, ec) && !fs::exists(p / "config.json", ec) && fs::exists(p / "tokenizer.json", ec))
    return tok::load_tokenizer_file(model);
  return tok::load_tokenizer(formats::resolve_model(model, formats::models_folder(CIRCUIT_SOURCE_DIR)));
}

// A piece as a quoted, escaped JSON string: shows spaces and newlines unambiguously.
std::string quoted(const std::string& s) {
  return nlohmann::json(s).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void run_text(const tok::Tokenizer& t, const TokenizeOptions& o) {
  const std::vector<int> ids = t.encode(o.text, !o.no_special);
  if (o.json) {
    nlohmann::json out{{"ids", ids}, {"pieces", nlohmann::json::array()}};
    for (int id : ids) out["pieces"].push_back(t.token_text(id));
    std::cout << out.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return;
  }
  std::cout << ids.size() << (ids.size() == 1 ? " token\n" : " tokens\n");
  for (std::size_t i = 0; i < ids.size(); ++i)
    std::cout << "  " << i << "\t" << ids[i] << "\t" << quoted(t.token_text(ids[i])) << "\n";
}

void run_file(const tok::Tokenizer& t, const TokenizeOptions& o) {
  std::ifstream in(o.file, std::ios::binary);
  if (!in) throw formats::FormatError(o.file, "cannot open the file");
  std::string line;
  std::size_t line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    const auto v = nlohmann::json::parse(line, nullptr, false);
    if (v.is_discarded() || !v.is_string())
      throw formats::FormatError(o.file + ":" + std::to_string(line_no), "not a JSON string");
    std::cout << nlohmann::json(t.encode(v.get<std::string>(), !o.no_special)).dump() << "\n";
  }
}

CommandRegistrar reg{60, "tokenize", [](CLI::App& app) {
  auto opts = std::make_shared<TokenizeOptions>();
  auto* cmd = app.add_subcommand("tokenize", "Show how a model's tokenizer splits text into tokens");
  cmd->add_option("MODEL", opts->model, "tokenizer.json, .gguf file, model folder or model name")->required();
  auto* text = cmd->add_option("--text", opts->text, "the text to tokenize");
  auto* file = cmd->add_option("--file", opts->file, "JSON lines, one string each: print one JSON array of ids per line");
  text->excludes(file);
  cmd->add_flag("--json", opts->json, "print {\"ids\": [...], \"pieces\": [...]}");
  cmd->add_flag("--no-special-tokens", opts->no_special, "do not add BOS/EOS around the text");
  cmd->callback([opts, text, file] {
    if (text->count() == 0 && file->count() == 0) throw std::runtime_error("tokenize: give --text or --file");
    const tok::Tokenizer t = open_tokenizer(opts->model);
    if (file->count() > 0) {
      run_file(t, *opts);
    } else {
      run_text(t, *opts);
    }
  });
}};

}  // namespace
}  // namespace circuit::cli
