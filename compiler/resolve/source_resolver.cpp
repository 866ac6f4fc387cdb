// SourceResolver: roots, symlink-proof containment, and the lookups of files and models.
#include "compiler/resolve/source_resolver.h"

#include <algorithm>
#include <array>
#include <fstream>
#include <stdexcept>

#include "compiler/parse/parser.h"
#include "runtime/formats/format_error.h"

namespace circuit::compiler {
namespace fs = std::filesystem;

namespace {

constexpr int kMaxSymlinkHops = 40;  // as the kernel's own limit (ELOOP)

// `path` absolute with every symlink followed, a dangling one included: weakly_canonical
// resolves the part that exists and leaves the rest as written, and that rest can start with
// a symlink whose target does not exist (yet). Empty when the links loop or cannot be read.
fs::path real_path(fs::path path) {
  std::error_code ec;
  for (int hop = 0; hop <= kMaxSymlinkHops; ++hop) {
    fs::path resolved = fs::weakly_canonical(fs::absolute(path, ec), ec);
    if (ec) return {};
    bool followed = false;
    fs::path prefix;
    for (auto it = resolved.begin(); it != resolved.end() && !followed; ++it) {
      prefix /= *it;
      if (!fs::is_symlink(fs::symlink_status(prefix, ec))) continue;
      fs::path target = fs::read_symlink(prefix, ec);
      if (ec) return {};
      if (target.is_relative()) target = prefix.parent_path() / target;
      for (auto rest = std::next(it); rest != resolved.end(); ++rest) target /= *rest;
      path = target;
      followed = true;
    }
    if (!followed) return resolved;
  }
  return {};
}

bool looks_like_model_path(const std::string& name) {
  return name.find('/') != std::string::npos || fs::path(name).extension() == ".gguf" || name == "." || name == "..";
}

}  // namespace

bool path_within(const fs::path& path, const fs::path& root) {
  auto p = path.begin();
  for (auto r = root.begin(); r != root.end(); ++r, ++p) {
    if (r->empty()) continue;  // a trailing separator
    if (p == path.end() || *p != *r) return false;
  }
  return true;
}

SourceResolver SourceResolver::unrestricted(std::vector<std::string> search_path, std::string models_dir) {
  SourceResolver r;
  r.search_path_ = std::move(search_path);
  r.models_dir_ = std::move(models_dir);
  return r;
}

SourceResolver SourceResolver::bounded(const fs::path& workspace, std::vector<std::string> search_path,
                                       std::string models_dir, std::string owner_model) {
  SourceResolver r;
  r.restricted_ = true;
  r.search_path_ = std::move(search_path);
  r.models_dir_ = std::move(models_dir);
  r.owner_model_ = std::move(owner_model);
  std::vector<fs::path> roots = {workspace};
  for (const auto& dir : r.search_path_) roots.emplace_back(dir);
  if (!r.models_dir_.empty()) roots.emplace_back(r.models_dir_);
  for (const auto& root : roots) {
    if (root.empty()) continue;
    fs::path real = real_path(root);
    if (!real.empty()) r.roots_.push_back(std::move(real));
  }
  return r;
}

bool SourceResolver::allows(const fs::path& path) const {
  if (!restricted_) return true;
  const fs::path real = real_path(path);
  if (real.empty()) return false;
  for (const auto& root : roots_)
    if (path_within(real, root)) return true;
  return false;
}

std::optional<std::string> SourceResolver::read(const fs::path& path) const {
  std::error_code ec;
  if (!allows(path) || fs::is_directory(path, ec)) return std::nullopt;
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  // A little past the parser's limit is enough for it to say the file is too large (E006),
  // whatever the file's size.
  std::string text;
  std::array<char, 1 << 16> chunk;
  const auto size = fs::file_size(path, ec);
  if (!ec) text.reserve(static_cast<size_t>(std::min<std::uintmax_t>(size, kMaxSourceBytes + chunk.size())));
  while (text.size() <= kMaxSourceBytes) {
    in.read(chunk.data(), chunk.size());
    text.append(chunk.data(), static_cast<size_t>(in.gcount()));
    if (!in) break;
  }
  if (in.bad()) return std::nullopt;
  return text;
}

std::vector<fs::path> SourceResolver::import_candidates(const std::string& from, const std::string& wanted) const {
  std::vector<fs::path> tries;
  const fs::path path(wanted);
  if (path.is_absolute()) {
    tries.push_back(path);
  } else {
    tries.push_back(fs::path(from).parent_path() / path);
    for (const auto& dir : search_path_) tries.push_back(fs::path(dir) / path);
  }
  std::vector<fs::path> found;
  for (const auto& candidate : tries) {
    std::error_code ec;
    // Outside the roots nothing is looked at, not even whether the file exists.
    if (allows(candidate) && fs::is_regular_file(candidate, ec)) found.push_back(candidate.lexically_normal());
  }
  return found;
}

SourceResolver::Refusal SourceResolver::import_not_found(const std::string& from, const std::string& wanted) const {
  if (restricted_)
    return {"E024", "cannot use '" + wanted + "': only files inside the workspace or the standard library can be used here",
            "check the name, or copy the file into the workspace"};
  std::string searched = fs::path(from).parent_path().string();
  if (searched.empty()) searched = ".";
  for (const auto& dir : search_path_) searched += ", " + dir;
  return {"E020", "cannot find '" + wanted + "'", "searched " + searched};
}

formats::ModelSource SourceResolver::find_model(const std::string& name) const {
  if (!restricted_ || name.empty() || name == owner_model_) return formats::resolve_model(name, models_dir_);
  const std::string refused = "cannot use model '" + name +
                              "': only models in the models folder or inside the workspace can be used here";
  if (looks_like_model_path(name)) {
    // The folder (or file) and every file in the folder the reader may open must be inside.
    const fs::path path(name);
    std::error_code ec;
    if (!allows(path)) throw std::runtime_error(refused);
    fs::path dir = fs::is_directory(path, ec) ? path : path.filename() == "config.json" ? path.parent_path() : fs::path();
    if (dir.empty() && path.filename() == "config.json") dir = ".";
    if (!dir.empty())
      for (const auto& entry : fs::directory_iterator(dir, ec))
        if (!allows(entry.path())) throw std::runtime_error(refused);
    return formats::resolve_model(name, models_dir_);
  }
  // A short name: a folder of the models folder, never one of the current folder. The models
  // folder is the server owner's own setup, so its entries may link anywhere (a download cache).
  const fs::path named = fs::absolute(fs::path(models_dir_) / name);
  std::error_code ec;
  if (fs::is_directory(named, ec)) {
    formats::ModelSource source = formats::resolve_model(named.string(), models_dir_);
    source.name = name;
    return source;
  }
  std::vector<std::string> names;
  for (const auto& model : formats::list_models(models_dir_)) names.push_back(model.name);
  std::string reason = "unknown model '" + name + "'";
  if (names.empty()) {
    reason += "; the models folder " + models_dir_ + " holds no models";
  } else {
    reason += "; available in " + models_dir_ + ":";
    for (const auto& n : names) reason += " " + n;
    if (const std::string nearest = formats::nearest_name(name, names); !nearest.empty())
      reason += "; did you mean '" + nearest + "'?";
  }
  throw formats::FormatError("model", reason);
}

std::string SourceResolver::key_of(const fs::path& path) {
  std::error_code ec;
  fs::path canonical = fs::weakly_canonical(path, ec);
  return ec ? path.lexically_normal().string() : canonical.string();
}

}  // namespace circuit::compiler
