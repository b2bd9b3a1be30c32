// A network: a graph of convolution layers, joins (element-wise add, channel
// concat) and shape markers (what convbench does not run but that changes a
// shape between two convolutions: pooling, upsampling, flatten, RoI align).
// A chain of layers is the simplest graph. Written and read as a text file,
// one node per line:
//
//   net    NAME
//   input  NAME  NxCxHxW
//   conv   NAME  INPUT  KIND/ACT[+each][+bias]/DESCRIPTOR
//   add    NAME  IN1,IN2[,...]  [ACT]
//   concat NAME  IN1,IN2[,...]  [NxCxHxW]
//   shape  NAME  INPUT  NxCxHxW  [WHAT...]
//
// '#' starts a comment. Nodes may come in any order; the graph must be acyclic.
#pragma once

#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "convbench/layer.hpp"

namespace convbench {

enum class NodeOp { input, conv, add, concat, shape };
std::string_view to_string(NodeOp op);

using Dims = std::array<int64_t, 4>;  // N, C, H, W
std::string dims_str(const Dims& d);   // "1x64x56x56"
Dims parse_dims(std::string_view s);   // throws Error

struct Node {
  std::string name;
  NodeOp op = NodeOp::conv;
  std::vector<std::string> inputs;
  Layer layer;          // conv
  Act act = Act::none;  // add: activation of the sum (ResNet's ReLU after the add)
  Dims dims{};          // the output; declared for input and shape (and optionally concat)
  std::string what;     // shape: what the marker stands for, e.g. "maxpool 3x3 s2"
  int line = 0;         // where it was read, for messages (0: built in code)
};

struct Model {
  std::string name;
  std::vector<Node> nodes;

  // Filled by validate(): a topological order, each node's inputs as indices,
  // and every node's output dims.
  std::vector<size_t> order;
  std::vector<std::vector<size_t>> in;

  // Throws Error naming the first problem: a duplicate or unknown name, a
  // cycle, shapes that disagree along an edge, a join of different sizes,
  // concat channels that do not add up, no input or no convolution.
  void validate();
  // Computed nodes that no node reads, and those an unread shape marker names
  // (its data is drawn, not computed): the network's outputs, in file order.
  std::vector<size_t> outputs() const;
  // The canonical text form; parse_network(str()) gives the same graph.
  std::string str() const;

  // Building chains in code: an input node, then layers each reading the last.
  void add_input(const std::string& node, const Dims& d);
  void add_layer(const std::string& node, const Layer& l);
};

// Parses the text form; `origin` names it in messages ("file.net:12: ...").
Model parse_network(std::string_view text, const std::string& origin);
Model read_network_file(const std::string& path);

// The phone study's small networks, one per kind x activation: a 3x3 stride-2
// normal stem (3 -> 32, 224 -> 112), then five layers of the kind with kernel k:
// 32 -> 64 -> 128 -> 256 -> 512 -> 512 channels, 112 -> 56 -> 28 -> 14 -> 7 -> 7.
Model study_model(Kind kind, Act act, int k = 3);

// Every descriptor of a shape file as a normal-kind layer (depthwise ones are
// g = channels), chained, named by its n"..." field or its position.
Model shape_file_model(const std::string& path, Act act);

}  // namespace convbench
