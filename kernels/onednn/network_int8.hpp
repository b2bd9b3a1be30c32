// oneDNN's chained int8: a whole network with s8/u8 tensors between layers.
#pragma once

#include <memory>
#include <utility>
#include <vector>

#include "convbench/backend.hpp"

namespace convbench::onednn {

// What Backend::prepare_network returns for Precision::int8_chained: per
// executed node (inputs and markers included: they quantise), in topological
// order, its steps. Throws dnnl::error when oneDNN cannot create a primitive.
std::vector<std::pair<size_t, std::unique_ptr<Prepared>>> prepare_chained_int8(
    const Model& m, const RunConfig& cfg, const Backend::NetworkData& nd);

}  // namespace convbench::onednn
