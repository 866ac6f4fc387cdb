#include "server/run_results.h"

#include <charconv>
#include <optional>
#include <fstream>
#include <sstream>

#include "runtime/formats/format_error.h"
#include "runtime/formats/safetensors_reader.h"
#include "server/http_message.h"
#include "server/iso_time.h"

namespace circuit::server {
namespace fs = std::filesystem;
namespace {

constexpr const char* kSavedPrefix = "saved:";

std::string slurp(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// "A..B" -> [A, B); false when malformed.
bool parse_rows(std::string_view rows, std::int64_t& first, std::int64_t& last) {
  const size_t dots = rows.find("..");
  if (dots == std::string_view::npos) return false;
  auto number = [](std::string_view text, std::int64_t& out) {
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc() && end == text.data() + text.size() && !text.empty();
  };
  return number(rows.substr(0, dots), first) && number(rows.substr(dots + 2), last);
}

}  // namespace

RunRecord RunResults::summarize(const std::string& stem, const fs::path& results_json) const {
  RunRecord run;
  run.id = kSavedPrefix + stem;
  run.state = RunState::Done;
  run.results = "results/" + stem;
  std::error_code error;
  auto modified = fs::last_write_time(results_json, error);
  if (!error) run.finished = iso_utc(modified);
  // A results.json that does not parse is still listed (its files may be read); its fields
  // stay empty rather than failing the whole listing.
  auto doc = nlohmann::json::parse(slurp(results_json), nullptr, /*allow_exceptions=*/false);
  if (doc.is_object()) {
    if (auto it = doc.find("source"); it != doc.end() && it->is_string()) {
      fs::path source = it->get<std::string>();
      run.path = source.is_absolute() ? workspace_.relative_of(source) : source.generic_string();
    }
    if (auto it = doc.find("seconds"); it != doc.end() && it->is_number()) run.seconds = it->get<double>();
    if (auto it = doc.find("passed"); it != doc.end() && it->is_boolean()) run.passed = it->get<bool>();
  }
  return run;
}

std::vector<RunRecord> RunResults::saved_runs() const {
  std::vector<RunRecord> runs;
  const fs::path results = workspace_.root() / "results";
  std::error_code error;
  if (!fs::is_directory(fs::symlink_status(results, error))) return runs;
  std::map<std::string, fs::path> found;
  for (fs::directory_iterator it(results, error); !error && it != fs::directory_iterator(); it.increment(error)) {
    const std::string stem = it->path().filename().string();
    if (stem.starts_with(".") || !fs::is_directory(it->symlink_status(error))) continue;
    const fs::path json = it->path() / "results.json";
    if (fs::is_regular_file(fs::symlink_status(json, error))) found[stem] = json;
  }
  std::lock_guard lock(mutex_);
  std::map<std::string, Cached> kept;
  for (const auto& [stem, json] : found) {
    std::error_code stat_error;
    const auto size = fs::file_size(json, stat_error);
    const auto modified = fs::last_write_time(json, stat_error);
    auto it = cache_.find(stem);
    if (it == cache_.end() || it->second.size != size || it->second.modified != modified)
      kept[stem] = Cached{size, modified, summarize(stem, json)};
    else
      kept[stem] = std::move(it->second);
    runs.push_back(kept[stem].run);
  }
  cache_ = std::move(kept);
  return runs;
}

fs::path RunResults::saved_folder(std::string_view stem) const {
  if (stem.empty() || stem.find('/') != std::string_view::npos)
    throw ApiError(400, "run 'saved:" + std::string(stem) + "': not a results folder name");
  const fs::path folder = workspace_.resolve("results/" + std::string(stem));
  std::error_code error;
  if (!fs::is_regular_file(folder / "results.json", error))
    throw ApiError(404, "run 'saved:" + std::string(stem) + "': no such run (no results/" + std::string(stem) +
                            "/results.json)");
  return folder;
}

std::string read_result_file(const fs::path& folder, const std::string& name) {
  const fs::path path = folder / name;
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw ApiError(404, folder.filename().string() + "/" + name + ": not found");
  return slurp(path);
}

nlohmann::json list_tensors(const fs::path& folder) {
  nlohmann::json list = nlohmann::json::array();
  const fs::path path = folder / "tensors.safetensors";
  std::error_code error;
  if (!fs::is_regular_file(path, error)) return {{"tensors", list}};
  try {
    auto file = formats::SafetensorsFile::open(path.string());
    for (const auto& t : file.tensors()) {
      std::string dtype = t.dtype == formats::SafetensorsDtype::F32 ? "float32" : formats::safetensors_dtype_name(t.dtype);
      list.push_back({{"name", t.name}, {"dtype", dtype}, {"shape", t.shape}});
    }
  } catch (const formats::FormatError& e) {
    throw ApiError(500, e.what());
  }
  return {{"tensors", list}};
}

TensorBytes read_tensor(const fs::path& folder, const std::string& name, std::string_view rows) {
  const fs::path path = folder / "tensors.safetensors";
  std::error_code error;
  if (!fs::is_regular_file(path, error)) throw ApiError(404, "tensor '" + name + "': this run saved no tensors");
  std::optional<formats::SafetensorsFile> file;
  try {
    file.emplace(formats::SafetensorsFile::open(path.string()));
  } catch (const formats::FormatError& e) {
    throw ApiError(500, e.what());
  }
  const auto* t = file->find(name);
  if (!t) throw ApiError(404, "tensor '" + name + "': not in this run's tensors.safetensors");
  if (t->dtype != formats::SafetensorsDtype::F32)
    throw ApiError(400, "tensor '" + name + "': stored as " + formats::safetensors_dtype_name(t->dtype) +
                            ", only float32 is served");
  TensorBytes out;
  out.shape = t->shape;
  size_t begin = 0, end = t->data.size();
  if (!rows.empty()) {
    std::int64_t first = 0, last = 0;
    if (t->shape.empty()) throw ApiError(400, "tensor '" + name + "': a scalar has no rows");
    if (!parse_rows(rows, first, last) || first < 0 || last < first || last > t->shape[0])
      throw ApiError(400, "tensor '" + name + "': rows '" + std::string(rows) + "' is not a range A..B within 0.." +
                              std::to_string(t->shape[0]));
    const size_t row_bytes = t->shape[0] == 0 ? 0 : t->data.size() / static_cast<size_t>(t->shape[0]);
    begin = static_cast<size_t>(first) * row_bytes;
    end = static_cast<size_t>(last) * row_bytes;
    out.shape[0] = last - first;
  }
  // One copy, from the mapped file into the response (the file may be replaced by a new run
  // as soon as this returns).
  out.data.assign(reinterpret_cast<const char*>(t->data.data()) + begin, end - begin);
  return out;
}

}  // namespace circuit::server
