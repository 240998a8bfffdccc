// The record type of the generated reference headers (tests/core/refs_*.hpp, written by
// tools/gen_core_refs.py from PyTorch), and helpers to turn records into tensors.
#pragma once

#include <cmath>
#include <cstdint>
#include <iterator>
#include <vector>

#include "ember/core/tensor.hpp"

namespace ember_refs {

struct RefArray {
  std::vector<int64_t> shape;
  std::vector<double> data;
};

struct RefCase {
  const char* op;
  std::vector<RefArray> inputs;
  std::vector<int64_t> params;
  std::vector<RefArray> outputs;
};

// Rebuilds the cases from the flat tables of a generated header: per case the op index, then
// inputs, params and outputs, each list prefixed by its length; an array is ndim, the sizes, and
// the offset and count of its values in data.
inline std::vector<RefCase> decode(const char* const* ops, const double* data, const int64_t* meta,
                                   std::size_t meta_size) {
  std::vector<RefCase> cases;
  std::size_t i = 0;
  auto next = [&] { return meta[i++]; };
  auto read_arrays = [&](std::vector<RefArray>& out) {
    for (int64_t n = next(); n > 0; --n) {
      RefArray a;
      for (int64_t d = next(); d > 0; --d) a.shape.push_back(next());
      const int64_t offset = next(), count = next();
      a.data.assign(data + offset, data + offset + count);
      out.push_back(std::move(a));
    }
  };
  while (i < meta_size) {
    RefCase c;
    c.op = ops[next()];
    read_arrays(c.inputs);
    for (int64_t n = next(); n > 0; --n) c.params.push_back(next());
    read_arrays(c.outputs);
    cases.push_back(std::move(c));
  }
  return cases;
}

template <class T>
ember::Tensor<T> to_tensor(const RefArray& a) {
  ember::Tensor<T> t(a.shape);
  for (std::size_t i = 0; i < a.data.size(); ++i) t.data()[i] = static_cast<T>(a.data[i]);
  return t;
}

}  // namespace ember_refs
