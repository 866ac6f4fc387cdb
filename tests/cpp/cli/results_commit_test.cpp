// The results folder is committed as a set: a writer killed (SIGKILL) right after any step of
// the commit leaves the folder with the complete old three files or the complete new three, and
// the next write leaves no temporary folder behind. The writer runs in a forked child that the
// test hook CIRCUIT_TEST_KILL_AT_STEP kills at the step under test.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

#include "run/results_commit.h"
#include "run/results_writer.h"

namespace circuit::cli::run {
namespace {

namespace fs = std::filesystem;

const char* const kFiles[] = {"circuit.json", "results.json", "tensors.safetensors"};

struct ResultSet {
  interchange::CircuitDocument document;
  nlohmann::json results;
  std::map<std::string, plan::Tensor> tensors;
};

ResultSet result_set(const std::string& name, float value, int size) {
  ResultSet s;
  s.document.name = name;
  s.results = {{"format", "circuitry.results"}, {"name", name}};
  plan::Tensor t;
  t.shape = {size};
  t.data.assign(static_cast<size_t>(size), value);
  s.tensors["x/blocks.0.hook_resid_post"] = t;
  return s;
}

void write(const fs::path& dir, const ResultSet& s) { write_results(dir.string(), s.document, s.results, s.tensors); }

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// Every entry of a folder with its bytes ("name" -> contents; folders by name only).
std::map<std::string, std::string> contents(const fs::path& dir) {
  std::map<std::string, std::string> out;
  for (const auto& entry : fs::directory_iterator(dir))
    out[entry.path().filename().string()] = entry.is_directory() ? "<folder>" : slurp(entry.path());
  return out;
}

class ResultsCommit : public ::testing::Test {
 protected:
  void SetUp() override {
    char pattern[] = "/tmp/circuit-commit-XXXXXX";
    ASSERT_NE(::mkdtemp(pattern), nullptr);
    root_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::remove_all(root_, ignored);
  }
  fs::path root_;
};

TEST_F(ResultsCommit, WritesTheThreeFilesAndNothingBeside) {
  const fs::path dir = root_ / "results" / "induction";
  write(dir, result_set("old", 1.0f, 8));
  write(dir, result_set("new", 2.0f, 16));
  const auto files = contents(dir);
  ASSERT_EQ(files.size(), 3u);
  EXPECT_NE(files.at("results.json").find("\"new\""), std::string::npos);
  EXPECT_EQ(contents(root_ / "results").size(), 1u);  // no temporary folder beside it
}

TEST_F(ResultsCommit, AKillAtAnyStepLeavesTheOldOrTheNewSet) {
  const ResultSet old_set = result_set("old", 1.0f, 8), new_set = result_set("new", 2.0f, 4096);
  write(root_ / "reference_old", old_set);
  write(root_ / "reference_new", new_set);
  const auto expect_old = contents(root_ / "reference_old"), expect_new = contents(root_ / "reference_new");
  ASSERT_NE(expect_old, expect_new);
  const fs::path results = root_ / "results", dir = results / "induction";
  write(dir, old_set);

  for (int step = 1; step <= kLastCommitStep; ++step) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0);
    if (child == 0) {
      ::setenv("CIRCUIT_TEST_KILL_AT_STEP", std::to_string(step).c_str(), 1);
      try {
        write(dir, new_set);
      } catch (...) {
        ::_exit(3);
      }
      ::_exit(0);
    }
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) << "step " << step << ": status " << status;

    const auto found = contents(dir);
    const bool switched = step >= static_cast<int>(CommitStep::Switched);
    EXPECT_EQ(found, switched ? expect_new : expect_old) << "step " << step;

    // The next write cleans up what the killed writer left and commits its own set.
    write(dir, old_set);
    EXPECT_EQ(contents(dir), expect_old) << "step " << step;
    EXPECT_EQ(contents(results).size(), 1u) << "step " << step << ": temporary folders left beside the results";
  }
}

TEST_F(ResultsCommit, ACancelledWriteLeavesTheOldSet) {
  const fs::path dir = root_ / "induction";
  write(dir, result_set("old", 1.0f, 8));
  const auto before = contents(dir);
  const ResultSet s = result_set("new", 2.0f, 8);
  std::atomic<bool> cancel{true};
  EXPECT_THROW(write_results(dir.string(), s.document, s.results, s.tensors, &cancel), std::exception);
  EXPECT_EQ(contents(dir), before);
  EXPECT_EQ(contents(root_).size(), 1u);
}

TEST_F(ResultsCommit, ALinkToAResultsFolderStaysALink) {
  const fs::path real = root_ / "elsewhere" / "induction", link = root_ / "induction";
  write(real, result_set("old", 1.0f, 8));
  fs::create_directory_symlink(real, link);
  write(link, result_set("new", 2.0f, 8));
  EXPECT_TRUE(fs::is_symlink(fs::symlink_status(link)));
  EXPECT_NE(slurp(real / "results.json").find("\"new\""), std::string::npos);
  EXPECT_EQ(contents(root_ / "elsewhere").size(), 1u);
}

TEST_F(ResultsCommit, RefusesToReplaceAFolderThatIsNotResults) {
  const fs::path dir = root_ / "project";
  fs::create_directories(dir);
  std::ofstream(dir / "notes.txt") << "mine\n";
  const ResultSet s = result_set("new", 2.0f, 8);
  try {
    write(dir, s);
    FAIL() << "expected a refusal";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("notes.txt"), std::string::npos) << e.what();
  }
  EXPECT_EQ(contents(dir).size(), 1u);
  EXPECT_EQ(slurp(dir / "notes.txt"), "mine\n");
  EXPECT_EQ(contents(root_).size(), 1u);
}

}  // namespace
}  // namespace circuit::cli::run
