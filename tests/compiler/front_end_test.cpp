// Unit tests of the front end: the shared helpers (edit distance, code table), the depth
// limits, the formatter's fixed point on every example and stdlib file, and that those files
// check clean on their models.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/codes.h"
#include "compiler/diagnostics/edit_distance.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/format/formatter.h"
#include "compiler/parse/parser.h"

namespace fs = std::filesystem;
using namespace circuit::compiler;

namespace {

std::string read(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<fs::path> library_files() {
  std::vector<fs::path> files;
  for (const char* dir : {"examples", "stdlib"}) {
    fs::path root = fs::path(CIRCUIT_SOURCE_DIR) / dir;
    if (!fs::exists(root)) continue;
    for (const auto& entry : fs::recursive_directory_iterator(root))
      if (entry.path().extension() == ".circuit") files.push_back(entry.path());
  }
  std::sort(files.begin(), files.end());
  return files;
}

TEST(EditDistance, CountsEditsAndTranspositions) {
  EXPECT_EQ(edit_distance("", ""), 0);
  EXPECT_EQ(edit_distance("head", "heads"), 1);
  EXPECT_EQ(edit_distance("logit_diff", "logti_diff"), 1);
  EXPECT_EQ(edit_distance("kitten", "sitting"), 3);
  EXPECT_EQ(closest_name("prompt", {"prompts", "template", "seed"}), "prompts");
  EXPECT_EQ(closest_name("xyz", {"prompts", "template"}), "");
  EXPECT_EQ(did_you_mean("cach", {"cache"}), "did you mean 'cache'?");
}

TEST(DiagnosticCodes, AreUniqueAndExplained) {
  std::set<std::string_view> seen;
  for (const auto& row : diagnostic_codes()) {
    EXPECT_TRUE(seen.insert(row.code).second) << row.code;
    EXPECT_FALSE(row.title.empty());
    EXPECT_FALSE(row.explanation.empty());
  }
  ASSERT_NE(find_diagnostic_code("e012"), nullptr);
  EXPECT_EQ(find_diagnostic_code("E012")->code, "E012");
  EXPECT_EQ(find_diagnostic_code("E999"), nullptr);
}

TEST(DiagnosticCodes, AreAllListedInTheLanguageGuide) {
  std::string guide = read(fs::path(CIRCUIT_SOURCE_DIR) / "docs/language.md");
  for (const auto& row : diagnostic_codes())
    EXPECT_NE(guide.find("| " + std::string(row.code) + " | " + std::string(row.title) + " |"), std::string::npos)
        << row.code << " is missing from docs/language.md (circuit explain --list)";
}

TEST(Limits, DeepBracketsAreADiagnosticNotACrash) {
  std::string text = "let x = " + std::string(5000, '[') + std::string(5000, ']') + "\n";
  SourceText source("deep.circuit", text);
  Diagnostics diagnostics;
  parse_source(source, diagnostics);
  ASSERT_EQ(diagnostics.all().size(), 1u);
  EXPECT_EQ(diagnostics.all()[0].code, "E003");
}

TEST(Limits, LongOperatorChainsAreADiagnosticNotACrash) {
  std::string text = "let x = head 0.0";
  for (int i = 0; i < 3000; ++i) text += " | head 0.0";
  SourceText source("chain.circuit", text + "\n");
  Diagnostics diagnostics;
  parse_source(source, diagnostics);
  ASSERT_FALSE(diagnostics.all().empty());
  EXPECT_EQ(diagnostics.all()[0].code, "E003");
}

TEST(Render, PointsAtTheSpan) {
  SourceText source("f.circuit", "let x = head 9.6\n");
  Diagnostic d{make_span(source, 13, 16), "E013", Severity::Error, "head 9.6 is out of range", "hint text", {}};
  EXPECT_EQ(render_text(d),
            "f.circuit:1:14: error[E013]: head 9.6 is out of range\n"
            "   |\n"
            " 1 | let x = head 9.6\n"
            "   |              ^^^\n"
            "  hint: hint text\n");
  EXPECT_EQ(render_json(d)["column"], 14);
}

TEST(Library, EveryFileIsAFixedPointOfFmt) {
  auto files = library_files();
  ASSERT_FALSE(files.empty());
  for (const auto& path : files) {
    SourceText source(path.string(), read(path));
    Diagnostics diagnostics;
    ast::File file = parse_source(source, diagnostics);
    ASSERT_FALSE(diagnostics.has_errors()) << render_text(diagnostics.all());
    std::string once = format_file(file);
    EXPECT_EQ(once, source.text) << path << " is not formatted (run circuit fmt)";
    SourceText again(path.string(), once);
    EXPECT_EQ(format_file(parse_source(again, diagnostics)), once) << path << ": fmt is not idempotent";
  }
}

TEST(Library, EveryFileChecksClean) {
  FolderModelProvider models(default_models_dir());
  CompileOptions options;
  options.load.search_path = default_search_path();
  options.models = &models;
  for (const auto& path : library_files()) {
    auto c = check_file(path.string(), options);
    // A model that is not in this checkout (a toy model not trained yet) leaves its file's
    // shape checks out; everything else is still checked.
    if (c->diagnostics.all().size() == 1 && c->diagnostics.all()[0].code == "E023") {
      std::printf("note: %s: its model is not in models/; checked without the model's shape\n", path.c_str());
      CompileOptions without_model = options;
      without_model.models = nullptr;
      c = check_file(path.string(), without_model);
    }
    EXPECT_TRUE(c->diagnostics.all().empty()) << render_text(c->diagnostics.all());
  }
}

// An attention-only model, as a fake provider: no MLPs, no tokenizer.
class AttnOnlyProvider : public ModelProvider {
 public:
  AttnOnlyProvider() {
    info_.name = "toy";
    info_.config.family = circuit::formats::Family::AttnOnly;
    info_.config.n_layers = 2;
    info_.config.n_heads = 4;
    info_.config.n_kv_heads = 4;
    info_.config.mlp = circuit::formats::MlpKind::None;
    info_.config.d_mlp = 0;
  }
  const ModelInfo* find(const std::string& name, std::string& error) override {
    if (name == "toy") return &info_;
    error = "unknown model '" + name + "'";
    return nullptr;
  }

 private:
  ModelInfo info_;
};

TEST(ModelChecks, AttentionOnlyModelsHaveNoMlps) {
  AttnOnlyProvider models;
  CompileOptions options;
  options.models = &models;
  auto c = check_text("toy.circuit", "model \"toy\"\nlet a = [mlp 1, neuron 0.5, resid 1 mid, head 1.3, resid 1 post]\n",
                      options);
  std::vector<std::string> codes;
  for (const auto& d : c->diagnostics.all()) codes.push_back(d.code);
  EXPECT_EQ(codes, (std::vector<std::string>{"E017", "E017", "E017"})) << render_text(c->diagnostics.all());
}

TEST(ModelChecks, UnknownModelIsReportedAtItsDeclaration) {
  AttnOnlyProvider models;
  CompileOptions options;
  options.models = &models;
  auto c = check_text("m.circuit", "model \"tyo\"\n", options);
  ASSERT_EQ(c->diagnostics.all().size(), 1u);
  const Diagnostic& d = c->diagnostics.all()[0];
  EXPECT_EQ(d.code, "E023");
  EXPECT_EQ(d.message, "cannot load model 'tyo'");
  EXPECT_EQ(d.hint, "unknown model 'tyo'");
  EXPECT_EQ(d.span.col, 7);
}

TEST(ModelChecks, CommandLineModelOverridesTheFile) {
  AttnOnlyProvider models;
  CompileOptions options;
  options.models = &models;
  options.model_override = "toy";
  auto c = check_text("o.circuit", "model \"smollm2-135m\"\nlet a = head 5.0\n", options);
  ASSERT_EQ(c->diagnostics.all().size(), 1u);
  EXPECT_EQ(c->diagnostics.all()[0].code, "E012");
  EXPECT_EQ(c->diagnostics.all()[0].hint, "toy has 2 layers (0..1)");
}

// A 10,000-line file checks cleanly (its speed is measured in bench/check_speed.py, not here).
TEST(LargeFile, TenThousandLinesCheckCleanly) {
  std::string text;
  for (int i = 0; i < 2500; ++i) {
    std::string n = std::to_string(i);
    text += "/// circuit " + n + "\ncircuit c" + n + " {\n  head 0." + std::to_string(i % 4) +
            " -> head 1.0.k\n}\n";
  }
  CompileOptions options;
  auto c = check_text("big.circuit", text, options);
  EXPECT_FALSE(c->diagnostics.has_errors()) << render_text(c->diagnostics.all());
  ASSERT_NE(c->program.main(), nullptr);
  EXPECT_EQ(c->program.main()->file.decls.size(), 2500u);
}

}  // namespace
