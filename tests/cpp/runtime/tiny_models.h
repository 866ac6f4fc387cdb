// Tiny random models of each family for the runtime's tests: a ModelConfig and canonical
// weights (runtime/model/families.h slots) filled with seeded random numbers.
#pragma once

#include "runtime/formats/model_config.h"
#include "runtime/model/hooked_model.h"

namespace circuit::rt::testing {

formats::ModelConfig tiny_config(formats::Family family);
HookedModel tiny_model(formats::Family family, std::uint64_t seed = 7, const RuntimeOptions& options = {});

}  // namespace circuit::rt::testing
