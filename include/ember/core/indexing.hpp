// ember: joining, splitting and index-driven ops: cat, stack, split, chunk, index_select, gather,
// scatter, scatter_add, masked_fill, one_hot, tril, triu. Indices are Tensor<int64_t>; negative
// indices are rejected where PyTorch rejects them (gather/scatter) and wrap in index_select.
#pragma once

#include <algorithm>

#include "ember/autograd/index_helpers.hpp"
#include "ember/autograd/record.hpp"
#include "ember/core/creation.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"

namespace ember {

// ---- cat / stack / split / chunk
// ------------------------------------------------------------------

template <class T>
Tensor<T> cat(const std::vector<Tensor<T>>& tensors, int64_t dim = 0) {
  EMBER_CHECK_VALUE(!tensors.empty(), "cat: expected a non-empty list of tensors");
  for (const auto& t : tensors) t.check_defined("cat");
  const Tensor<T>& first = tensors.front();
  EMBER_CHECK_SHAPE(first.dim() > 0, "cat: zero-dimensional tensor cannot be concatenated");
  const int64_t d = detail::wrap_dim(dim, first.dim(), "cat");
  Shape out_shape = first.shape();
  int64_t total = 0;
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Tensor<T>& t = tensors[i];
    EMBER_CHECK_SHAPE(t.dim() == first.dim(), "cat: tensor ", i, " has ", t.dim(),
                      " dimensions but tensor 0 has ", first.dim(), " (shapes ", t.shape(), " and ",
                      first.shape(), ")");
    for (int64_t k = 0; k < t.dim(); ++k) {
      EMBER_CHECK_SHAPE(k == d || t.size(k) == first.size(k),
                        "cat: sizes of tensors must match "
                        "except in dimension ",
                        d, "; tensor ", i, " has shape ", t.shape(), " but tensor 0 has shape ",
                        first.shape());
    }
    total += t.size(d);
  }
  out_shape[static_cast<std::size_t>(d)] = total;
  return autograd::differentiable<T>(
      autograd::needs_grad(tensors),
      [&] {
        Tensor<T> out(out_shape);
        int64_t at = 0;
        for (const auto& t : tensors) {
          detail::copy_into(out.narrow(d, at, t.size(d)), t);
          at += t.size(d);
        }
        return out;
      },
      [&](auto& out) {
        // Each input gets its block of g back (a view; only for the inputs that need it).
        std::vector<int64_t> sizes;
        std::vector<bool> needs;
        for (const auto& t : tensors) {
          sizes.push_back(t.size(d));
          needs.push_back(t.requires_grad());
        }
        autograd::record(out, "CatBackward", tensors, [d, sizes, needs](const Tensor<T>& g) {
          std::vector<Tensor<T>> grads(sizes.size());
          int64_t at = 0;
          for (std::size_t i = 0; i < sizes.size(); ++i) {
            if (needs[i]) grads[i] = g.narrow(d, at, sizes[i]);
            at += sizes[i];
          }
          return grads;
        });
      });
}

// stack is unsqueeze + cat, and differentiable through them.
template <class T>
Tensor<T> stack(const std::vector<Tensor<T>>& tensors, int64_t dim = 0) {
  EMBER_CHECK_VALUE(!tensors.empty(), "stack: expected a non-empty list of tensors");
  for (const auto& t : tensors) t.check_defined("stack");
  const int64_t d = detail::wrap_dim(dim, tensors.front().dim() + 1, "stack");
  std::vector<Tensor<T>> parts;
  parts.reserve(tensors.size());
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    EMBER_CHECK_SHAPE(tensors[i].shape() == tensors.front().shape(),
                      "stack: expects each tensor to be equal size, but got ",
                      tensors.front().shape(), " at entry 0 and ", tensors[i].shape(), " at entry ",
                      i);
    parts.push_back(tensors[i].unsqueeze(d));
  }
  return cat(parts, d);
}

template <class T>
std::vector<Tensor<T>> Tensor<T>::split(int64_t split_size, int64_t d) const {
  check_defined("split");
  EMBER_CHECK_VALUE(dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t w = detail::wrap_dim(d, dim(), "split");
  EMBER_CHECK_VALUE(split_size > 0 || (split_size == 0 && size(w) == 0),
                    "split: split_size must be positive, got ", split_size);
  std::vector<Tensor> out;
  const int64_t n = size(w);
  if (n == 0) return {*this};
  for (int64_t start = 0; start < n; start += split_size) {
    out.push_back(narrow(w, start, std::min(split_size, n - start)));
  }
  return out;
}

template <class T>
std::vector<Tensor<T>> Tensor<T>::split(const std::vector<int64_t>& sizes, int64_t d) const {
  check_defined("split");
  EMBER_CHECK_VALUE(dim() > 0, "split: cannot split a 0-d tensor");
  const int64_t w = detail::wrap_dim(d, dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    EMBER_CHECK_VALUE(s >= 0, "split: split sizes must be non-negative, got ", sizes);
    total += s;
  }
  EMBER_CHECK_SHAPE(total == size(w), "split: split sizes ", sizes, " sum to ", total,
                    " but dimension ", w, " has size ", size(w));
  std::vector<Tensor> out;
  int64_t start = 0;
  for (int64_t s : sizes) {
    out.push_back(narrow(w, start, s));
    start += s;
  }
  return out;
}

template <class T>
std::vector<Tensor<T>> Tensor<T>::chunk(int64_t chunks, int64_t d) const {
  check_defined("chunk");
  EMBER_CHECK_VALUE(chunks > 0, "chunk: number of chunks must be positive, got ", chunks);
  EMBER_CHECK_VALUE(dim() > 0, "chunk: cannot chunk a 0-d tensor");
  const int64_t w = detail::wrap_dim(d, dim(), "chunk");
  const int64_t n = size(w);
  return split(n == 0 ? 0 : (n + chunks - 1) / chunks, w);
}

template <class T>
std::vector<Tensor<T>> split(const Tensor<T>& t, int64_t split_size, int64_t dim = 0) {
  return t.split(split_size, dim);
}
template <class T>
std::vector<Tensor<T>> chunk(const Tensor<T>& t, int64_t chunks, int64_t dim = 0) {
  return t.chunk(chunks, dim);
}

// ---- index_select / gather / scatter
// ---------------------------------------------------------------

template <class T>
Tensor<T> Tensor<T>::index_select(int64_t d, const Tensor<int64_t>& index) const {
  check_defined("index_select");
  index.check_defined("index_select");
  EMBER_CHECK_SHAPE(index.dim() <= 1, "index_select: index must be 0-d or 1-d, got shape ",
                    index.shape());
  const int64_t w = detail::wrap_dim(d, dim(), "index_select");
  const int64_t n = dim() == 0 ? 1 : size(w);
  const Tensor<int64_t> idx = index.reshape({-1});
  Shape out_shape = shape_;
  if (dim() > 0) out_shape[static_cast<std::size_t>(w)] = idx.numel();
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Tensor out(out_shape);
        for (int64_t i = 0; i < idx.numel(); ++i) {
          int64_t j = idx.at({i});
          EMBER_CHECK_INDEX(j >= -n && j < n, "index_select: index ", j,
                            " is out of range for dimension ", w, " of size ", n);
          if (j < 0) j += n;
          if (dim() == 0) {
            detail::copy_into(out, *this);
          } else {
            detail::copy_into(out.select(w, i), select(w, j));
          }
        }
        return out;
      },
      [&](auto& out) {
        // g's slices are added back at their source rows (scatter_add along w, so repeated
        // indices accumulate).
        autograd::record(
            out, "IndexSelectBackward", {*this},
            [shape = shape_, w, wrapped = detail::wrap_indices(idx, n)](const Tensor<T>& g) {
              if (shape.empty()) return std::vector<Tensor<T>>{g.reshape({})};
              Shape ishape(shape.size(), 1);
              ishape[static_cast<std::size_t>(w)] = wrapped.numel();
              const Tensor<int64_t> full = wrapped.view(ishape).expand(g.shape());
              Tensor<T> gx = detail::zeros_for_grad<T>(shape);
              gx.scatter_add_(w, full, g);
              return std::vector<Tensor<T>>{gx};
            });
      });
}

namespace detail {

// Checks gather/scatter shapes: index has self's rank, and index.size(k) <= other.size(k) for
// every k != dim (other = self for gather, src and self for scatter).
template <class T>
void check_index_shape(const char* op, const Tensor<int64_t>& index, const Tensor<T>& self,
                       int64_t d, bool all_dims) {
  EMBER_CHECK_SHAPE(index.dim() == self.dim() || (self.dim() == 0 && index.dim() <= 1), op,
                    ": index tensor must have the same number of dimensions as the input (index ",
                    index.shape(), ", input ", self.shape(), ")");
  for (int64_t k = 0; k < index.dim(); ++k) {
    EMBER_CHECK_SHAPE((k == d && !all_dims) || index.size(k) <= self.size(k), op,
                      ": size of index ", index.shape(), " exceeds input ", self.shape(),
                      " in dimension ", k);
  }
}

// Calls fn(index offset into self along the other dims, j = index value, k = position) over
// every element of index, in order; checks each value against size n of dim d.
template <class F>
void for_each_index(const char* op, const Tensor<int64_t>& index, int64_t d, int64_t n, F&& fn) {
  const Tensor<int64_t> idx = index.contiguous();
  const Shape& sh = idx.shape();
  std::vector<int64_t> pos(sh.size(), 0);
  for (int64_t e = 0; e < idx.numel(); ++e) {
    const int64_t j = idx.data()[e];
    EMBER_CHECK_INDEX(j >= 0 && j < n, op, ": index ", j, " is out of range for dimension ", d,
                      " of size ", n);
    fn(pos, j);
    for (std::size_t k = sh.size(); k-- > 0;) {
      if (++pos[k] < sh[k]) break;
      pos[k] = 0;
    }
  }
}

template <class T>
int64_t offset_of(const Tensor<T>& t, const std::vector<int64_t>& pos, int64_t d, int64_t j) {
  int64_t off = 0;
  for (std::size_t k = 0; k < pos.size(); ++k) {
    off += (static_cast<int64_t>(k) == d ? j : pos[k]) * t.strides()[k];
  }
  return off;
}

}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::gather(int64_t d, const Tensor<int64_t>& index) const {
  check_defined("gather");
  index.check_defined("gather");
  const int64_t w = detail::wrap_dim(d, dim(), "gather");
  detail::check_index_shape("gather", index, *this, w, false);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Tensor out(index.shape());
        T* o = out.data();
        int64_t e = 0;
        const int64_t n = dim() == 0 ? 1 : size(w);
        detail::for_each_index("gather", index, w, n,
                               [&](const std::vector<int64_t>& pos, int64_t j) {
                                 o[e++] = data()[detail::offset_of(*this, pos, w, j)];
                               });
        return out;
      },
      [&](auto& out) {
        // Each element of g is added back where it was read from; repeated indices accumulate.
        autograd::record(
            out, "GatherBackward", {*this},
            [shape = shape_, w, si = autograd::save(index, "gather")](const Tensor<T>& g) {
              Tensor<T> gx = detail::zeros_for_grad<T>(shape);
              gx.scatter_add_(w, si.get(), g);
              return std::vector<Tensor<T>>{gx};
            });
      });
}

template <class T>
Tensor<T>& Tensor<T>::scatter_(int64_t d, const Tensor<int64_t>& index, const Tensor& src) {
  autograd::check_inplace(*this, "scatter_");
  check_defined("scatter_");
  index.check_defined("scatter_");
  src.check_defined("scatter_");
  const int64_t w = detail::wrap_dim(d, dim(), "scatter_");
  detail::check_index_shape("scatter_", index, *this, w, false);
  detail::check_index_shape("scatter_", index, src, w, true);
  const int64_t n = dim() == 0 ? 1 : size(w);
  detail::for_each_index("scatter_", index, w, n, [&](const std::vector<int64_t>& pos, int64_t j) {
    data()[detail::offset_of(*this, pos, w, j)] = src.data()[detail::offset_of(src, pos, -1, 0)];
  });
  bump_version();
  return *this;
}

template <class T>
Tensor<T>& Tensor<T>::scatter_add_(int64_t d, const Tensor<int64_t>& index, const Tensor& src) {
  autograd::check_inplace(*this, "scatter_add_");
  check_defined("scatter_add_");
  index.check_defined("scatter_add_");
  src.check_defined("scatter_add_");
  const int64_t w = detail::wrap_dim(d, dim(), "scatter_add_");
  detail::check_index_shape("scatter_add_", index, *this, w, false);
  detail::check_index_shape("scatter_add_", index, src, w, true);
  const int64_t n = dim() == 0 ? 1 : size(w);
  detail::for_each_index("scatter_add_", index, w, n,
                         [&](const std::vector<int64_t>& pos, int64_t j) {
                           data()[detail::offset_of(*this, pos, w, j)] +=
                               src.data()[detail::offset_of(src, pos, -1, 0)];
                         });
  bump_version();
  return *this;
}

namespace detail {
// Backward of scatter (Overwrite) and scatter_add: self's gradient is g, with the overwritten
// positions zeroed for scatter; src's is g read at the scattered positions (g.gather), placed in
// src's shape (src may be larger than index; its unread elements get 0). With repeated indices,
// scatter's src gradient is g.gather for every copy, as in PyTorch.
template <bool Overwrite, class T>
void record_scatter(Tensor<T>& out, const Tensor<T>& self, int64_t d, const Tensor<int64_t>& index,
                    const Tensor<T>& src) {
  const int64_t w = self.dim() == 0 ? 0 : wrap_dim(d, self.dim(), "scatter");
  autograd::record(out, Overwrite ? "ScatterBackward" : "ScatterAddBackward", {self, src},
                   [w, si = autograd::save(index, Overwrite ? "scatter" : "scatter_add"),
                    ns = self.requires_grad(), nsrc = src.requires_grad(),
                    src_shape = src.shape()](const Tensor<T>& g) {
                     const Tensor<int64_t>& idx = si.get();
                     Tensor<T> gs, gsrc;
                     if (ns) {
                       gs = g;
                       if constexpr (Overwrite) {
                         gs = g.clone();
                         gs.scatter_(w, idx, zeros_for_grad<T>(idx.shape()));
                       }
                     }
                     if (nsrc) gsrc = pad_to(g.gather(w, idx), src_shape);
                     return std::vector<Tensor<T>>{gs, gsrc};
                   });
}
}  // namespace detail

template <class T>
Tensor<T> Tensor<T>::scatter(int64_t d, const Tensor<int64_t>& index, const Tensor& src) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, src),
      [&] {
        Tensor out = clone();
        out.scatter_(d, index, src);
        return out;
      },
      [&](auto& out) { detail::record_scatter<true>(out, *this, d, index, src); });
}

template <class T>
Tensor<T> Tensor<T>::scatter_add(int64_t d, const Tensor<int64_t>& index, const Tensor& src) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this, src),
      [&] {
        Tensor out = clone();
        out.scatter_add_(d, index, src);
        return out;
      },
      [&](auto& out) { detail::record_scatter<false>(out, *this, d, index, src); });
}

// ---- masks and triangles
// -----------------------------------------------------------------------------

template <class T>
template <class M>
Tensor<T>& Tensor<T>::masked_fill_(const Tensor<M>& mask, T value) {
  autograd::check_inplace(*this, "masked_fill_");
  check_defined("masked_fill_");
  mask.check_defined("masked_fill_");
  const Shape b = detail::broadcast_shapes(shape_, mask.shape(), "masked_fill_");
  EMBER_CHECK_SHAPE(b == shape_, "masked_fill_: mask of shape ", mask.shape(),
                    " cannot be broadcast to the input shape ", shape_);
  const Tensor<M> m = mask.expand(shape_);
  const auto plan = detail::make_plan<2>(shape_, {strides_, m.strides()});
  T* o = data();
  const M* mp = m.data();
  detail::parallel_rows(plan, [&](const std::array<int64_t, 2>& off, int64_t n) {
    for (int64_t i = 0; i < n; ++i) {
      if (mp[off[1] + i * plan.inner_stride[1]] != M(0))
        o[off[0] + i * plan.inner_stride[0]] = value;
    }
  });
  bump_version();
  return *this;
}

template <class T>
template <class M>
Tensor<T> Tensor<T>::masked_fill(const Tensor<M>& mask, T value) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Tensor out = clone();
        out.masked_fill_(mask, value);
        return out;
      },
      [&](auto& out) {
        // Filled positions no longer depend on the input; the mask is not differentiable.
        autograd::record(out, "MaskedFillBackward", {*this},
                         [sm = autograd::save(mask, "masked_fill")](const Tensor<T>& g) {
                           return std::vector<Tensor<T>>{detail::mask_grad(g, sm.get(), false)};
                         });
      });
}

namespace detail {
template <class T>
Tensor<T> triangle(const Tensor<T>& x, int64_t diagonal, bool lower, const char* op) {
  x.check_defined(op);
  EMBER_CHECK_SHAPE(x.dim() >= 2, op, ": input tensor must have at least 2 dimensions, got shape ",
                    x.shape());
  Tensor<T> out = x.contiguous().clone();
  const int64_t r = x.size(-2), c = x.size(-1);
  const int64_t mats = r * c == 0 ? 0 : out.numel() / (r * c);
  T* p = out.data();
  for (int64_t m = 0; m < mats; ++m) {
    for (int64_t i = 0; i < r; ++i) {
      for (int64_t j = 0; j < c; ++j) {
        const bool keep = lower ? j - i <= diagonal : j - i >= diagonal;
        if (!keep) p[(m * r + i) * c + j] = T(0);
      }
    }
  }
  return out;
}
}  // namespace detail

// tril/triu keep a triangle; the gradient is the same triangle of g.
template <class T>
Tensor<T> Tensor<T>::tril(int64_t diagonal) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return detail::triangle(*this, diagonal, true, "tril"); },
      [&](auto& out) {
        autograd::record(out, "TrilBackward", {*this}, [diagonal](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{detail::triangle(g, diagonal, true, "tril")};
        });
      });
}
template <class T>
Tensor<T> Tensor<T>::triu(int64_t diagonal) const {
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return detail::triangle(*this, diagonal, false, "triu"); },
      [&](auto& out) {
        autograd::record(out, "TriuBackward", {*this}, [diagonal](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{detail::triangle(g, diagonal, false, "triu")};
        });
      });
}

// one_hot(labels, num_classes): shape labels.shape() + [num_classes], int64 like PyTorch; -1
// classes means labels.max() + 1. Not differentiable (integer in, integer out).
inline Tensor<int64_t> one_hot(const Tensor<int64_t>& labels, int64_t num_classes = -1) {
  labels.check_defined("one_hot");
  const Tensor<int64_t> l = labels.contiguous();
  if (num_classes < 0) {
    EMBER_CHECK_VALUE(l.numel() > 0,
                      "one_hot: can not infer the number of classes from an "
                      "empty tensor");
    num_classes = *std::max_element(l.data(), l.data() + l.numel()) + 1;
  }
  Shape shape = l.shape();
  shape.push_back(num_classes);
  Tensor<int64_t> out(shape);
  std::fill_n(out.data(), static_cast<std::size_t>(out.numel()), int64_t(0));
  for (int64_t i = 0; i < l.numel(); ++i) {
    const int64_t c = l.data()[i];
    EMBER_CHECK_INDEX(c >= 0 && c < num_classes, "one_hot: class value ", c,
                      " is out of range for ", num_classes, " classes");
    out.data()[i * num_classes + c] = 1;
  }
  return out;
}

template <class T>
Tensor<T> index_select(const Tensor<T>& t, int64_t dim, const Tensor<int64_t>& index) {
  return t.index_select(dim, index);
}
template <class T>
Tensor<T> gather(const Tensor<T>& t, int64_t dim, const Tensor<int64_t>& index) {
  return t.gather(dim, index);
}
template <class T>
Tensor<T> tril(const Tensor<T>& t, int64_t diagonal = 0) {
  return t.tril(diagonal);
}
template <class T>
Tensor<T> triu(const Tensor<T>& t, int64_t diagonal = 0) {
  return t.triu(diagonal);
}

}  // namespace ember
