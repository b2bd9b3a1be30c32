// A network: named layers run one after another, each layer's output the next
// one's input.
#pragma once

#include <string>
#include <vector>

#include "convbench/layer.hpp"

namespace convbench {

struct ModelLayer {
  std::string name;
  Layer layer;
};

struct Model {
  std::string name;
  std::vector<ModelLayer> layers;
  // Throws Error naming the first pair of layers whose shapes do not chain.
  void validate() const;
};

// The phone study's small networks, one per kind x activation: a 3x3 stride-2
// normal stem (3 -> 32, 224 -> 112), then five layers of the kind with kernel k:
// 32 -> 64 -> 128 -> 256 -> 512 -> 512 channels, 112 -> 56 -> 28 -> 14 -> 7 -> 7.
Model study_model(Kind kind, Act act, int k = 3);

// Every descriptor of a shape file as a normal-kind layer (depthwise ones are
// g = channels), named by its n"..." field or its position.
Model shape_file_model(const std::string& path, Act act);

}  // namespace convbench
