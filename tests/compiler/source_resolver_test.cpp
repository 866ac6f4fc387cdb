// The filesystem boundary of what the compiler reads for the server (SourceResolver, bounded):
// files inside the workspace and the standard library load; a path outside, a `..` climb and a
// symlink leading out are refused with one message that names the path as written, the same
// whether or not the file exists, and quotes nothing of it. The CLI's resolver still reads
// anywhere.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "compiler/check/model_provider.h"
#include "compiler/diagnostics/render.h"
#include "compiler/driver/compilation.h"
#include "compiler/resolve/source_resolver.h"

namespace fs = std::filesystem;
using namespace circuit::compiler;

namespace {

// A fresh folder holding workspace/, stdlib/, models/ and outside/, removed afterwards.
class Boundary : public ::testing::Test {
 protected:
  void SetUp() override {
    root_ = fs::temp_directory_path() / ("circuit-boundary-" + std::to_string(::getpid()) + "-" +
                                         ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(root_);
    for (const char* dir : {"workspace/sub", "stdlib", "models", "outside", "workspace-evil"})
      fs::create_directories(root_ / dir);
    write("workspace/lib.circuit", "let inside = head 0.1\n");
    write("workspace/sub/deep.circuit", "let deep = head 0.2\n");
    write("stdlib/std.circuit", "let from_std = head 0.3\n");
    write("outside/secret.circuit", "SECRET-TOKEN let leaked = head 0.4\n");
    write("workspace-evil/evil.circuit", "EVIL-TOKEN\n");
  }
  void TearDown() override { fs::remove_all(root_); }

  void write(const std::string& relative, const std::string& text) {
    std::ofstream(root_ / relative, std::ios::binary) << text;
  }
  fs::path ws() const { return root_ / "workspace"; }
  SourceResolver bounded() const {
    return SourceResolver::bounded(ws(), {(root_ / "stdlib").string()}, (root_ / "models").string());
  }

  // The diagnostics of compiling `text` as the workspace file main.circuit.
  std::vector<Diagnostic> compile(const std::string& text, const SourceResolver& files) {
    CompileOptions options;
    options.load.resolver = &files;
    compilations_.push_back(check_text((ws() / "main.circuit").string(), text, options));
    return compilations_.back()->diagnostics.all();
  }

  fs::path root_;
  std::vector<std::unique_ptr<Compilation>> compilations_;
};

TEST_F(Boundary, FilesInsideTheWorkspaceAndTheStdlibLoad) {
  const SourceResolver files = bounded();
  auto diagnostics = compile("use \"lib.circuit\"\nuse \"sub/deep.circuit\"\nuse \"std.circuit\"\n"
                             "let all = inside | deep | from_std\n",
                             files);
  EXPECT_TRUE(diagnostics.empty()) << render_text(diagnostics);
  EXPECT_EQ(compilations_.back()->program.modules.size(), 4u);
  EXPECT_TRUE(files.allows(ws() / "lib.circuit"));
  EXPECT_TRUE(files.allows(ws() / "not-yet-written.circuit"));
  EXPECT_TRUE(files.allows(root_ / "stdlib" / "std.circuit"));
}

TEST_F(Boundary, OutsideMissingAndClimbingOutGiveOneMessageQuotingNothing) {
  const SourceResolver files = bounded();
  const std::string existing = (root_ / "outside" / "secret.circuit").string();
  const std::string missing = (root_ / "outside" / "absent.circuit").string();
  for (const std::string& wanted : {existing, missing, std::string("../outside/secret.circuit"),
                                    std::string("../outside/absent.circuit"), std::string("/etc/shadow"),
                                    std::string("../workspace-evil/evil.circuit"), std::string("nowhere.circuit")}) {
    auto diagnostics = compile("use \"" + wanted + "\"\n", files);
    ASSERT_EQ(diagnostics.size(), 1u) << wanted << "\n" << render_text(diagnostics);
    const Diagnostic& d = diagnostics[0];
    EXPECT_EQ(d.code, "E024");
    EXPECT_EQ(d.message, "cannot use '" + wanted +
                             "': only files inside the workspace or the standard library can be used here");
    EXPECT_EQ(d.hint, "check the name, or copy the file into the workspace");
    EXPECT_EQ(d.span.line, 1);
    EXPECT_EQ(d.span.col, 5);
    const std::string rendered = render_text(diagnostics);
    EXPECT_EQ(rendered.find("SECRET"), std::string::npos) << rendered;
    EXPECT_EQ(rendered.find("EVIL"), std::string::npos) << rendered;
    EXPECT_EQ(compilations_.back()->program.modules.size(), 1u) << "nothing else was loaded for " << wanted;
  }
  // A sibling folder whose name starts like the workspace's is not inside it.
  EXPECT_FALSE(files.allows(root_ / "workspace-evil" / "evil.circuit"));
  EXPECT_FALSE(files.allows(ws() / ".." / "outside" / "secret.circuit"));
}

TEST_F(Boundary, SymlinksThatLeadOutAreRefusedLikeAnyOutsideFile) {
  fs::create_symlink(root_ / "outside" / "secret.circuit", ws() / "link.circuit");
  fs::create_directory_symlink(root_ / "outside", ws() / "linked-dir");
  fs::create_symlink(root_ / "outside" / "absent.circuit", ws() / "dangling.circuit");
  fs::create_symlink(ws() / "lib.circuit", ws() / "inner-link.circuit");
  const SourceResolver files = bounded();
  for (const std::string wanted : {"link.circuit", "linked-dir/secret.circuit", "dangling.circuit"}) {
    auto diagnostics = compile("use \"" + wanted + "\"\n", files);
    ASSERT_EQ(diagnostics.size(), 1u) << wanted;
    EXPECT_EQ(diagnostics[0].code, "E024") << wanted;
    EXPECT_EQ(render_text(diagnostics).find("SECRET"), std::string::npos);
  }
  EXPECT_FALSE(files.allows(ws() / "dangling.circuit"));
  EXPECT_FALSE(files.read(ws() / "link.circuit").has_value());
  // A link that stays inside is fine.
  auto diagnostics = compile("use \"inner-link.circuit\"\nlet x = inside\n", files);
  EXPECT_TRUE(diagnostics.empty()) << render_text(diagnostics);
}

TEST_F(Boundary, TheMainFileItselfMustBeInside) {
  fs::create_symlink(root_ / "outside" / "secret.circuit", ws() / "main-link.circuit");
  const SourceResolver files = bounded();
  CompileOptions options;
  options.load.resolver = &files;
  for (const fs::path& path : {ws() / "main-link.circuit", root_ / "outside" / "secret.circuit",
                               root_ / "outside" / "absent.circuit"}) {
    try {
      check_file(path.string(), options);
      ADD_FAILURE() << path << " was read";
    } catch (const std::runtime_error& e) {
      EXPECT_EQ(std::string(e.what()),
                path.string() + ": cannot read the file (only files inside the workspace can be compiled here)");
    }
  }
}

TEST_F(Boundary, ModelsOnlyFromTheModelsFolderOrTheWorkspace) {
  const SourceResolver files = bounded();
  FolderModelProvider models(files);
  std::string error_existing, error_missing;
  // A folder outside holding something config-like, and one that does not exist: one answer.
  write("outside/config.json", "{\"SECRET-TOKEN\": 1}\n");
  const std::string outside = (root_ / "outside").string();
  EXPECT_EQ(models.find(outside, error_existing), nullptr);
  EXPECT_EQ(models.find((root_ / "nothing").string(), error_missing), nullptr);
  EXPECT_EQ(error_existing, "cannot use model '" + outside +
                                "': only models in the models folder or inside the workspace can be used here");
  EXPECT_EQ(error_missing.substr(error_missing.find("':")), error_existing.substr(error_existing.find("':")));
  EXPECT_EQ(error_existing.find("SECRET"), std::string::npos);
  // A short name is looked up in the models folder, never in the current folder (which here
  // holds a folder of that name).
  const fs::path cwd = fs::current_path();
  fs::current_path(root_);
  std::string unknown;
  EXPECT_EQ(models.find("outside", unknown), nullptr);
  fs::current_path(cwd);
  EXPECT_EQ(unknown, "model: unknown model 'outside'; the models folder " + (root_ / "models").string() +
                         " holds no models");
}

TEST_F(Boundary, TheCommandLineReadsAnywhere) {
  const SourceResolver files = SourceResolver::unrestricted({(root_ / "stdlib").string()}, "");
  EXPECT_TRUE(files.allows("/etc/hostname"));
  auto diagnostics = compile("use \"../outside/secret.circuit\"\n", files);
  // Read and parsed: its syntax error is reported in its own file, as the CLI always did.
  ASSERT_FALSE(diagnostics.empty());
  EXPECT_NE(render_text(diagnostics).find("SECRET"), std::string::npos);
  auto missing = compile("use \"../outside/absent.circuit\"\n", files);
  ASSERT_EQ(missing.size(), 1u);
  EXPECT_EQ(missing[0].code, "E020");
  EXPECT_EQ(missing[0].message, "cannot find '../outside/absent.circuit'");
}

}  // namespace
