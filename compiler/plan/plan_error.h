// PlanError: the one exception the hook-plan layer throws for a bad plan (JSON that is not a
// plan, or a plan the validator rejects). Its message is one line, "<json path>: <reason>",
// e.g. "passes[3].interventions[0].select.heads[0]: 12 is out of range (model has 9 heads)".
#pragma once

#include <stdexcept>
#include <string>

namespace circuit::plan {

class PlanError : public std::runtime_error {
 public:
  PlanError(const std::string& path, const std::string& reason)
      : std::runtime_error(path.empty() ? reason : path + ": " + reason),
        path_(path),
        reason_(reason) {}
  const std::string& path() const { return path_; }
  const std::string& reason() const { return reason_; }

 private:
  std::string path_;
  std::string reason_;
};

}  // namespace circuit::plan
