// Diagnostics in the API's form: workspace-relative files, exclusive ends, and columns in
// UTF-16 code units (what the browser's editor counts), also after non-ASCII text.
#include "server/live_compiler.h"

#include <gtest/gtest.h>

#include "compiler/diagnostics/source.h"
#include "temp_workspace.h"

namespace circuit::server {
namespace {

TEST(DiagnosticsToApi, CountsColumnsInUtf16CodeUnits) {
  testing::TempWorkspace t;
  Workspace workspace(t.root);
  // "é" is 2 bytes and 1 unit, "𝄞" 4 bytes and 2 units: `bad` is at byte column 14, unit column 11.
  compiler::SourceText source((workspace.root() / "a.circuit").string(), "ok\nlet é𝄞 = bad\n");
  compiler::Diagnostic d;
  d.code = "E010";
  d.message = "unknown name 'bad'";
  const uint32_t begin = static_cast<uint32_t>(source.text.find("bad"));
  d.span = compiler::make_span(source, begin, begin + 3);
  d.notes.push_back({compiler::make_span(source, 0, 2), "see here"});
  auto api = diagnostics_to_api({d}, workspace, "fallback.circuit");
  ASSERT_EQ(api.size(), 1u);
  EXPECT_EQ(api[0]["file"], "a.circuit");
  EXPECT_EQ(api[0]["line"], 2);
  EXPECT_EQ(api[0]["col"], 11);      // "let é𝄞 = " is 10 units
  EXPECT_EQ(api[0]["end_line"], 2);
  EXPECT_EQ(api[0]["end_col"], 14);
  EXPECT_EQ(api[0]["severity"], "error");
  EXPECT_EQ(api[0]["notes"][0]["col"], 1);
  EXPECT_EQ(api[0]["notes"][0]["file"], "a.circuit");
}

TEST(DiagnosticsToApi, ADiagnosticWithoutAPlaceGoesToTheFileStart) {
  testing::TempWorkspace t;
  Workspace workspace(t.root);
  compiler::Diagnostic d;
  d.code = "E023";
  d.message = "cannot load model";
  auto api = diagnostics_to_api({d}, workspace, "x.circuit");
  EXPECT_EQ(api[0]["file"], "x.circuit");
  EXPECT_EQ(api[0]["line"], 1);
  EXPECT_EQ(api[0]["col"], 1);
}

}  // namespace
}  // namespace circuit::server
