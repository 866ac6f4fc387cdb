// The libtorch side of RuntimeOptions: device and dtype parsed into c10 types. Part of the
// runtime's model stage; included only by .cpp files that already use libtorch.
#pragma once

#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <string>

namespace circuit::rt {

c10::ScalarType parse_dtype(const std::string& name);
c10::Device parse_device(const std::string& name);

}  // namespace circuit::rt
