// SourceResolver: the one place where the compiler front end (resolve stage) turns a name the
// user wrote (a file to compile, `use "FILE"`, `model "NAME"`) into something read from disk.
// The CLI's resolver is unrestricted: the user's own disk. The server's is bounded to the
// workspace and the library roots (the stdlib search path, the models folder); anything else
// is refused with one message that names the path only as written, the same whether or not
// the file exists, and nothing of a foreign file is ever read.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include "runtime/formats/model_source.h"

namespace circuit::compiler {

// Whether `path` is `root` or lies under it, compared by whole components (so /ws-evil is not
// inside /ws); both already canonical. The one containment test of every boundary.
bool path_within(const std::filesystem::path& path, const std::filesystem::path& root);

class SourceResolver {
 public:
  // The CLI's: any readable file; imports fall back to `search_path`, models to `models_dir`.
  static SourceResolver unrestricted(std::vector<std::string> search_path, std::string models_dir);
  // The server's: files inside `workspace`, the `search_path` folders or `models_dir` only.
  // `owner_model` (the server's --model, the owner's own choice) is found as the CLI finds it.
  static SourceResolver bounded(const std::filesystem::path& workspace, std::vector<std::string> search_path,
                                std::string models_dir, std::string owner_model = {});

  bool restricted() const { return restricted_; }
  const std::vector<std::string>& search_path() const { return search_path_; }
  const std::string& models_dir() const { return models_dir_; }

  // Whether `path` may be read: always when unrestricted; when bounded, whether it lies inside
  // a root once every symlink on the way is followed (a dangling one included), compared by
  // whole path components, so `/ws-evil` is not inside `/ws`.
  bool allows(const std::filesystem::path& path) const;

  // The text of a file to compile, or nullopt when it cannot be read or is not allowed. At
  // most a little more than the parser takes (kMaxSourceBytes) is read.
  std::optional<std::string> read(const std::filesystem::path& path) const;

  // `use "WANTED"` from the file `from`: the files it may mean, in order (next to `from`, then
  // along the search path), each an allowed regular file, lexically normal. A candidate
  // outside the roots is never looked at.
  std::vector<std::filesystem::path> import_candidates(const std::string& from, const std::string& wanted) const;

  // Why `use "WANTED"` found nothing, as the diagnostic says it: {code, message, hint}. When
  // bounded this names only `wanted` and the roots' kinds, never whether a file exists.
  struct Refusal {
    std::string code, message, hint;
  };
  Refusal import_not_found(const std::string& from, const std::string& wanted) const;

  // The model `name` names (a short name in the models folder, a folder, a .gguf file), its
  // config read; throws formats::FormatError or std::runtime_error with a one-line reason.
  // When bounded, a short name is looked up in the models folder only (never the current
  // folder), and a path must lead inside a root, its files included.
  formats::ModelSource find_model(const std::string& name) const;

  // The load key of a file: its canonical path (symlinks followed), to load each file once.
  static std::string key_of(const std::filesystem::path& path);

 private:
  SourceResolver() = default;
  bool restricted_ = false;
  std::vector<std::string> search_path_;
  std::string models_dir_;
  std::string owner_model_;
  std::vector<std::filesystem::path> roots_;  // canonical; only when restricted
};

}  // namespace circuit::compiler
