// JSON views of the model and its costs, shared by the tools and the benchmarks.
#pragma once

#include <nlohmann/json.hpp>

#include "convbench/cost.hpp"

namespace convbench {

nlohmann::json to_json(const ConvDesc& d);  // canonical string plus every field
nlohmann::json to_json(const Cost& c);
// kind, shape, act, the totals, "stages" (same keys per stage) and intermediates.
nlohmann::json cost_json(const Layer& l);

}  // namespace convbench
