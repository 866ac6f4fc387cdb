// RunResults: the results of runs as `circuit run` leaves them on disk (WORKSPACE/results/
// STEM/: results.json, circuit.json, tensors.safetensors): the runs found there ("saved:STEM"),
// and reading a run's files and tensors for the API; tensors are cut from the memory-mapped
// safetensors file, never parsed into JSON. Part of the server layer (server/).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "server/session_state.h"
#include "server/workspace.h"

namespace circuit::server {

class RunResults {
 public:
  explicit RunResults(const Workspace& workspace) : workspace_(workspace) {}

  // Every WORKSPACE/results/STEM/ that holds a results.json, as a done run "saved:STEM",
  // sorted by stem. A results.json is parsed once per change (cached by size and time).
  std::vector<RunRecord> saved_runs() const;
  // The folder of a saved run; ApiError 400 for a bad stem, 404 when it holds no results.
  std::filesystem::path saved_folder(std::string_view stem) const;

 private:
  struct Cached {
    std::uintmax_t size = 0;
    std::filesystem::file_time_type modified;
    RunRecord run;
  };
  RunRecord summarize(const std::string& stem, const std::filesystem::path& results_json) const;

  const Workspace& workspace_;
  mutable std::mutex mutex_;
  mutable std::map<std::string, Cached> cache_;
};

// The text of FOLDER/NAME (results.json or circuit.json); ApiError 404 when missing.
std::string read_result_file(const std::filesystem::path& folder, const std::string& name);

// `{"tensors": [{"name", "dtype", "shape"}]}` of FOLDER/tensors.safetensors (empty list when the
// run saved none).
nlohmann::json list_tensors(const std::filesystem::path& folder);

struct TensorBytes {
  std::vector<std::int64_t> shape;  // of the rows returned
  std::string data;                 // little-endian float32, row-major
};

// Rows [first, last) of the first axis of a float32 tensor ("A..B" in `rows`; empty: all).
// ApiError 404 for an unknown name, 400 for a bad range or a tensor that is not float32.
TensorBytes read_tensor(const std::filesystem::path& folder, const std::string& name, std::string_view rows);

}  // namespace circuit::server
