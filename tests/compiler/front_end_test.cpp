// Unit tests of the front end: the shared helpers (edit distance, code table), the depth
// limits, the formatter's fixed point on every example and stdlib file, and that those files
// check clean on their models.
#include <gtest/gtest.h>

#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
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
#include "compiler/lower/lower.h"
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

std::string with_line_ends(std::string text, const std::string& eol) {
  std::string out;
  for (char ch : text) out += ch == '\n' ? eol : std::string(1, ch);
  return out;
}

// Old Mac files end lines with a lone "\r": every position the compiler computes (diagnostics,
// the token dump, the formatter's blank lines and trailing comments, claim names) counts it as
// a line break, as it counts "\n" and "\r\n".
TEST(LineEndings, ALoneCarriageReturnEndsALine) {
  const std::string lf =
      "let a = head 0.1  // first\n\n// about b\nlet b = nope\nexpect count(a) >= 1\nexpect count(a) >= 2\n";
  std::string lf_tokens, lf_fmt;
  {
    SourceText source("eol.circuit", lf);
    Diagnostics diagnostics;
    lf_tokens = dump_tokens(source);
    lf_fmt = format_file(parse_source(source, diagnostics));
  }
  for (const std::string eol : {"\n", "\r\n", "\r"}) {
    SCOPED_TRACE(eol == "\r" ? "CR" : eol == "\n" ? "LF" : "CRLF");
    const std::string text = with_line_ends(lf, eol);
    auto c = check_text("eol.circuit", text, CompileOptions{});
    ASSERT_EQ(c->diagnostics.all().size(), 1u) << render_text(c->diagnostics.all());
    const Diagnostic& d = c->diagnostics.all()[0];
    EXPECT_EQ(d.code, "E010");
    EXPECT_EQ(d.span.line, 4);
    EXPECT_EQ(d.span.col, 9);
    EXPECT_NE(render_text(d).find("eol.circuit:4:9: error[E010]"), std::string::npos) << render_text(d);
    EXPECT_NE(render_text(d).find(" 4 | let b = nope\n"), std::string::npos) << render_text(d);
    // Each claim on its own line, named by it.
    std::vector<std::string> claims;
    for (const auto& decl : c->program.main()->file.decls)
      if (decl.kind == ast::DeclKind::Expect) claims.push_back(claim_name(c->program.main()->file, decl));
    EXPECT_EQ(claims, (std::vector<std::string>{"expect.5", "expect.6"}));
    SourceText source("eol.circuit", text);
    EXPECT_EQ(dump_tokens(source), lf_tokens);
    Diagnostics diagnostics;
    EXPECT_EQ(format_file(parse_source(source, diagnostics)), lf_fmt);
  }
  // Two syntax errors on two "\r" lines are two diagnostics, each on its line.
  auto c = check_text("bad.circuit", "let = 1\rlet = 2\r", CompileOptions{});
  ASSERT_EQ(c->diagnostics.all().size(), 2u) << render_text(c->diagnostics.all());
  EXPECT_EQ(c->diagnostics.all()[0].span.line, 1);
  EXPECT_EQ(c->diagnostics.all()[1].span.line, 2);
}

// Memory a child process's `work` adds at its peak, in bytes: what it reaches above what it
// started with (the fork shares the test's own pages).
long long peak_growth_in_child(const std::function<void()>& work) {
  auto kib = [](const char* field) {
    std::ifstream status("/proc/self/status");
    for (std::string line; std::getline(status, line);)
      if (line.rfind(field, 0) == 0) return std::stoll(line.substr(std::string(field).size()));
    return -1LL;
  };
  int fds[2];
  if (::pipe(fds) != 0) return -1;
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(fds[0]);
    const long long start = kib("VmRSS:");
    work();
    const long long growth = (kib("VmHWM:") - start) * 1024;
    ::write(fds[1], &growth, sizeof growth);
    ::_exit(0);
  }
  ::close(fds[1]);
  long long growth = -1;
  if (::read(fds[0], &growth, sizeof growth) != sizeof growth) growth = -1;
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return growth;
}

std::string lets(size_t bytes) {
  std::string text;
  text.reserve(bytes + 64);
  for (int i = 0; text.size() < bytes; ++i) text += "let x" + std::to_string(i) + " = head 0." + std::to_string(i % 4) + "\n";
  return text;
}

// What checking a file of lets may take at its peak, per byte of the file (about 55x now,
// mostly the AST and the checker's tables; it took 170x; the size limit bounds the total).
constexpr long long kMaxUnderLimitFactor = 70;

// A 50 MB file (it peaked at 8.8 GB) is one E006 at 1:1, read no further than the limit, in
// memory about the limit's size; a 2 MiB file of lets checks in a bounded multiple of its size.
TEST(Limits, LargeFilesAreBoundedInMemory) {
  const fs::path big = fs::temp_directory_path() / ("circuit-big-" + std::to_string(::getpid()) + ".circuit");
  std::ofstream(big, std::ios::binary) << lets(50u << 20);
  std::vector<Diagnostic> over;
  const long long over_growth = peak_growth_in_child([&] {
    auto c = check_file(big.string(), CompileOptions{});
    const auto& all = c->diagnostics.all();
    const bool ok = all.size() == 1 && all[0].code == "E006" && all[0].span.line == 1 && all[0].span.col == 1 &&
                    all[0].message == "the file holds more than 8 MiB, the most a .circuit file may hold";
    if (!ok) ::_exit(1);
  });
  fs::remove(big);
  ASSERT_GE(over_growth, 0) << "the child failed: no single E006";
  EXPECT_LT(over_growth, 4 * static_cast<long long>(kMaxSourceBytes)) << "a 50 MB file over the limit";

  const std::string under = lets(size_t{2} << 20);
  const long long under_growth = peak_growth_in_child([&] {
    auto c = check_text("under.circuit", under, CompileOptions{});
    if (c->diagnostics.has_errors() || c->program.main()->file.decls.empty()) ::_exit(1);
  });
  ASSERT_GE(under_growth, 0) << "the child failed";
  std::printf("checking %zu bytes of lets peaks %lld MiB above the start (%.0fx)\n", under.size(), under_growth >> 20,
              static_cast<double>(under_growth) / static_cast<double>(under.size()));
  EXPECT_LT(under_growth, kMaxUnderLimitFactor * static_cast<long long>(under.size()));
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
