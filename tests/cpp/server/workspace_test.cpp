// Workspace: every hostile path a client can send is refused with 400 before touching the disk;
// listing finds the .circuit files but not results/ or hidden folders; writes are atomic.
#include "server/workspace.h"

#include <gtest/gtest.h>

#include <atomic>
#include <filesystem>
#include <string>
#include <thread>

#include "server/http_message.h"
#include "temp_workspace.h"

namespace circuit::server {
namespace {

namespace fs = std::filesystem;
using testing::TempWorkspace;

int status_of(const Workspace& w, const std::string& path) {
  try {
    w.resolve_circuit_file(path);
    return 200;
  } catch (const ApiError& e) {
    return e.status;
  }
}

TEST(Workspace, ResolvesPlainRelativePaths) {
  TempWorkspace t;
  Workspace w(t.root);
  EXPECT_EQ(w.resolve_circuit_file("a.circuit"), fs::canonical(t.root) / "a.circuit");
  EXPECT_EQ(w.resolve_circuit_file("examples/deep/b.circuit"), fs::canonical(t.root) / "examples/deep/b.circuit");
  EXPECT_EQ(w.relative_of(w.root() / "examples" / "b.circuit"), "examples/b.circuit");
}

TEST(Workspace, RefusesEveryHostilePath) {
  TempWorkspace t;
  Workspace w(t.root);
  const std::string hostile[] = {
      "",                          // empty
      "../a.circuit",              // up and out
      "examples/../../a.circuit",  // up and out further down
      "examples/../a.circuit",     // '..' even when it would stay inside
      "./a.circuit",               // '.'
      "examples//a.circuit",       // empty part
      "examples/",                 // trailing slash
      "/etc/passwd.circuit",       // absolute
      "..\\a.circuit",             // backslash
      "examples\\a.circuit",       // backslash as a separator
      std::string("a\0b.circuit", 11),  // NUL
      "a.txt",                     // not a .circuit file
      ".circuit",                  // no name
      "examples/.circuit",         // no name, in a folder
      std::string(2000, 'a') + ".circuit",  // too long
      "inj\r\nX-Injected: yes.circuit",  // CR/LF: would end a header line wherever the name is sent
      "tab\there.circuit",                // any control character
      "del\x7f.circuit",                  // DEL
  };
  for (const auto& path : hostile) EXPECT_EQ(status_of(w, path), 400) << "path: " << path;
}

TEST(Workspace, RefusesSymlinksLeadingOut) {
  TempWorkspace t, outside;
  outside.write("secret.circuit", "model \"x\"\n");
  fs::create_directory_symlink(outside.root, t.root / "out");
  fs::create_symlink(outside.root / "secret.circuit", t.root / "link.circuit");
  t.write("real/in.circuit", "");
  fs::create_directory_symlink(t.root / "real", t.root / "inside");
  Workspace w(t.root);
  EXPECT_EQ(status_of(w, "out/secret.circuit"), 400);
  EXPECT_EQ(status_of(w, "link.circuit"), 400);
  EXPECT_EQ(status_of(w, "out/new.circuit"), 400);  // a file that does not exist yet, behind the link
  EXPECT_EQ(status_of(w, "inside/in.circuit"), 200);  // a link that stays inside is fine
}

TEST(Workspace, RefusesSymlinksThatLeadNowhere) {
  TempWorkspace t, outside;
  // A link to a folder outside that does not exist (yet): writing through it must not create
  // it, and the answer is the client's 400, not a 500 from a failed mkdir.
  fs::create_directory_symlink(outside.root / "gone", t.root / "dangling");
  fs::create_symlink(outside.root / "gone.circuit", t.root / "dangling.circuit");
  Workspace w(t.root);
  EXPECT_EQ(status_of(w, "dangling/new.circuit"), 400);
  EXPECT_EQ(status_of(w, "dangling.circuit"), 400);
  try {
    w.write_text("dangling/new.circuit", "x");
    FAIL() << "a write through a dangling symlink must be refused";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 400);
    EXPECT_NE(std::string(e.what()).find("symlink"), std::string::npos) << e.what();
  }
  EXPECT_FALSE(fs::exists(outside.root / "gone"));
}

TEST(Workspace, ListsCircuitFilesButNotResultsOrHiddenFolders) {
  TempWorkspace t;
  t.write("b.circuit", "b");
  t.write("examples/a.circuit", "aa");
  t.write("notes.txt", "x");
  t.write("results/old/copy.circuit", "x");
  t.write(".git/x.circuit", "x");
  t.write(".hidden.circuit", "x");
  Workspace w(t.root);
  auto files = w.list_circuit_files();
  ASSERT_EQ(files.size(), 2u);
  EXPECT_EQ(files[0].path, "b.circuit");
  EXPECT_EQ(files[0].size, 1u);
  EXPECT_EQ(files[1].path, "examples/a.circuit");
  EXPECT_EQ(files[1].modified.size(), std::string("2026-11-25T18:00:00Z").size());
}

TEST(Workspace, ReadsAndWritesFiles) {
  TempWorkspace t;
  Workspace w(t.root);
  w.write_text("new/folder/c.circuit", "model \"induction-2l\"\n");
  EXPECT_EQ(t.read("new/folder/c.circuit"), "model \"induction-2l\"\n");
  EXPECT_EQ(w.read_text("new/folder/c.circuit"), "model \"induction-2l\"\n");
  try {
    w.read_text("missing.circuit");
    FAIL() << "a missing file must be 404";
  } catch (const ApiError& e) {
    EXPECT_EQ(e.status, 404);
  }
}

TEST(AtomicWrite, ReplacesTheWholeFileAndLeavesNoTemporaryFile) {
  TempWorkspace t;
  const fs::path path = t.write("a.circuit", std::string(100000, 'x'));
  write_file_atomically(path, "short");
  EXPECT_EQ(t.read("a.circuit"), "short");
  int entries = 0;
  for (const auto& e : fs::directory_iterator(t.root)) entries += e.path().filename() != "a.circuit" ? 1 : 0;
  EXPECT_EQ(entries, 0) << "a temporary file was left behind";
}

TEST(AtomicWrite, AFailedWriteLeavesTheOldFile) {
  TempWorkspace t;
  const fs::path path = t.write("a.circuit", "old");
  // The folder cannot take a new file: the write fails before the old one is touched.
  fs::permissions(t.root, fs::perms::owner_read | fs::perms::owner_exec);
  if (::access(t.root.c_str(), W_OK) == 0) {  // root ignores permissions
    fs::permissions(t.root, fs::perms::owner_all);
    GTEST_SKIP() << "running as root: the folder stays writable";
  }
  EXPECT_THROW(write_file_atomically(path, "new"), std::runtime_error);
  fs::permissions(t.root, fs::perms::owner_all);
  EXPECT_EQ(t.read("a.circuit"), "old");
}

TEST(AtomicWrite, ReadersNeverSeeAPartialFile) {
  TempWorkspace t;
  const std::string a(1 << 20, 'a'), b(1 << 20, 'b');
  const fs::path path = t.write("a.circuit", a);
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    for (int i = 0; i < 20; ++i) write_file_atomically(path, i % 2 ? a : b);
    stop = true;
  });
  int reads = 0;
  while (!stop) {
    std::string seen = t.read("a.circuit");
    ASSERT_TRUE(seen == a || seen == b) << "a reader saw " << seen.size() << " bytes";
    ++reads;
  }
  writer.join();
  EXPECT_GT(reads, 0);
}

}  // namespace
}  // namespace circuit::server
