// ember: shared pieces of the reduction backward rules: putting the reduced dims back into a
// gradient so it broadcasts against the input, and prod's gradient (exact with zeros).
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "ember/core/creation.hpp"
#include "ember/core/shape.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"
#include "ember/kernels/parallel.hpp"

namespace ember::autograd::detail {

// The shape a reduction over `dims` of a tensor of shape `in` has with keepdim = true (empty dims
// reduce every dim, negative dims wrap, as in the forward).
inline Shape keepdim_shape(const Shape& in, const std::vector<int64_t>& dims, const char* op) {
  Shape ks = in;
  for (int64_t d : ember::detail::wrap_dims(dims, static_cast<int64_t>(in.size()), op)) {
    ks[static_cast<std::size_t>(d)] = 1;
  }
  return ks;
}

// A reduction's output gradient with its reduced dims back as size 1 (keepdim or not), so that it
// broadcasts against the input.
template <class T>
Tensor<T> unreduce(const Tensor<T>& g, const Shape& kshape) {
  return g.shape() == kshape ? g : g.reshape(kshape);
}

// The gradient of prod over `dims`: for each element, g times the product of the other elements
// of its slice. Prefix and suffix products give it without dividing, so zeros (one or several)
// need no special case and no 0/0 can appear.
template <class T>
Tensor<T> prod_backward(const Tensor<T>& x, const Tensor<T>& g, const std::vector<int64_t>& dims) {
  const int64_t nd = x.dim();
  const std::vector<int64_t> red = ember::detail::wrap_dims(dims, nd, "prod");
  std::vector<bool> is_red(static_cast<std::size_t>(std::max<int64_t>(nd, 1)), false);
  for (int64_t d : red) is_red[static_cast<std::size_t>(d)] = true;
  // Kept dims first, reduced dims last: each slice is then one contiguous row of length R.
  std::vector<int64_t> perm;
  Shape kept_sizes;
  int64_t R = 1;
  for (int64_t d = 0; d < nd; ++d) {
    if (!is_red[static_cast<std::size_t>(d)]) {
      perm.push_back(d);
      kept_sizes.push_back(x.size(d));
    }
  }
  for (int64_t d : red) {
    perm.push_back(d);
    R *= x.size(d);
  }
  const int64_t K = ember::detail::numel_of(kept_sizes);
  const Tensor<T> xp = x.permute(perm).contiguous();
  const Tensor<T> gk = g.reshape(kept_sizes).contiguous();
  Tensor<T> r(xp.shape());
  const T* xv = xp.data();
  const T* gv = gk.data();
  T* rv = r.data();
  const auto grain =
      static_cast<std::size_t>(std::max<int64_t>(1, 32768 / std::max<int64_t>(R, 1)));
  parallel_for(0, static_cast<std::size_t>(K), grain, [&](std::size_t lo, std::size_t hi) {
    for (auto k = static_cast<int64_t>(lo); k < static_cast<int64_t>(hi); ++k) {
      const T* row = xv + k * R;
      T* out = rv + k * R;
      T acc = T(1);
      for (int64_t j = 0; j < R; ++j) {
        out[j] = acc;  // product of the elements before j
        acc *= row[j];
      }
      acc = gv[k];
      for (int64_t j = R; j-- > 0;) {
        out[j] *= acc;  // times g and the product of the elements after j
        acc *= row[j];
      }
    }
  });
  std::vector<int64_t> inverse(perm.size());
  for (std::size_t i = 0; i < perm.size(); ++i)
    inverse[static_cast<std::size_t>(perm[i])] = static_cast<int64_t>(i);
  return r.permute(inverse);
}

}  // namespace ember::autograd::detail
