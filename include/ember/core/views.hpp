// ember: views that share storage (view, permute, slice, expand, ...) and the copies that do not
// (contiguous, clone, reshape when no view exists, to<U>).
#pragma once

#include <algorithm>
#include <cstring>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/autograd/record.hpp"
#include "ember/core/iterate.hpp"
#include "ember/core/tensor_base.hpp"

namespace ember {

namespace detail {

// Strides that let (shape, strides) be read as new_shape without copying, or false (PyTorch's
// computeStride: each group of old dims that is contiguous among itself can be re-split).
inline bool view_strides(const Shape& shape, const Shape& strides, const Shape& new_shape,
                         Shape& out) {
  out.assign(new_shape.size(), 0);
  // Empty or single-element tensors fit any shape of the same numel.
  if (numel_of(shape) <= 1) {
    out = contiguous_strides(new_shape);
    return true;
  }
  int64_t view_d = static_cast<int64_t>(new_shape.size()) - 1;
  int64_t chunk_base_stride = strides.empty() ? 1 : strides.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    tensor_numel *= shape[static_cast<std::size_t>(d)];
    const bool chunk_end =
        d == 0 || (shape[static_cast<std::size_t>(d - 1)] != 1 &&
                   strides[static_cast<std::size_t>(d - 1)] != tensor_numel * chunk_base_stride);
    if (chunk_end) {
      while (view_d >= 0 &&
             (view_numel < tensor_numel || new_shape[static_cast<std::size_t>(view_d)] == 1)) {
        out[static_cast<std::size_t>(view_d)] = view_numel * chunk_base_stride;
        view_numel *= new_shape[static_cast<std::size_t>(view_d)];
        --view_d;
      }
      if (view_numel != tensor_numel) return false;
      if (d > 0) {
        chunk_base_stride = strides[static_cast<std::size_t>(d - 1)];
        tensor_numel = 1;
        view_numel = 1;
      }
    }
  }
  return view_d == -1;
}

// dst (already allocated, same shape) = src, any layouts; contiguous pairs are one memcpy.
template <class T, class S>
void copy_into(const Tensor<T>& dst, const Tensor<S>& src) {
  if constexpr (std::is_same_v<T, S>) {
    if (dst.is_contiguous() && src.is_contiguous()) {
      if (dst.numel() > 0 && dst.data() != src.data()) {
        std::memmove(dst.data(), src.data(), static_cast<std::size_t>(dst.numel()) * sizeof(T));
      }
      return;
    }
  }
  const auto plan = make_plan<2>(dst.shape(), {dst.strides(), src.strides()});
  T* d = dst.data();
  const S* s = src.data();
  parallel_rows(plan, [&](const std::array<int64_t, 2>& off, int64_t n) {
    T* dp = d + off[0];
    const S* sp = s + off[1];
    const int64_t ds = plan.inner_stride[0], ss = plan.inner_stride[1];
    for (int64_t i = 0; i < n; ++i) dp[i * ds] = static_cast<T>(sp[i * ss]);
  });
}

// A zero-filled contiguous tensor (creation.hpp includes this header, so zeros() is not usable).
template <class T>
Tensor<T> zeros_for_grad(const Shape& shape) {
  Tensor<T> z(shape);
  std::fill_n(z.data(), static_cast<std::size_t>(z.numel()), T(0));
  return z;
}

// Backward of the views that keep the elements in row-major order and only regroup them (view,
// reshape, squeeze, unsqueeze): the gradient is g read with the input's shape.
template <class T>
void record_reshape(Tensor<T>& out, const Tensor<T>& x, const char* name) {
  autograd::record(out, name, {x}, [shape = x.shape()](const Tensor<T>& g) {
    return std::vector<Tensor<T>>{g.reshape(shape)};
  });
}

// Backward of the views that pick a block of the input (slice, select): g is written into that
// block of a zero tensor shaped like the input. pick(t) takes the same view of t as the forward.
template <class T, class Pick>
void record_pick(Tensor<T>& out, const Tensor<T>& x, const char* name, Pick pick) {
  autograd::record(out, name, {x}, [shape = x.shape(), pick](const Tensor<T>& g) {
    Tensor<T> gx = zeros_for_grad<T>(shape);
    pick(gx).copy_(g);
    return std::vector<Tensor<T>>{gx};
  });
}

// Storage positions of every element of a (shape, strides, offset) layout, row-major order.
inline std::vector<int64_t> storage_positions(const Shape& shape, const Shape& strides,
                                              int64_t offset) {
  std::vector<int64_t> out(static_cast<std::size_t>(numel_of(shape)));
  std::vector<int64_t> idx(shape.size(), 0);
  int64_t pos = offset;
  for (auto& o : out) {
    o = pos;
    for (std::size_t d = shape.size(); d-- > 0;) {
      pos += strides[d];
      if (++idx[d] < shape[d]) break;
      pos -= strides[d] * shape[d];
      idx[d] = 0;
    }
  }
  return out;
}

// as_strided reads storage positions, so its backward works on them: every element of g is added
// at its storage position, and the input's gradient is read back at the input's own positions.
// Two layouts have no gradient here and are errors while recording, never a silently lost
// gradient: an input whose elements overlap (stride 0, e.g. expanded), and a result that reads
// memory outside the input's elements (ember does not track the base a view was taken from).
template <class T>
void record_as_strided(Tensor<T>& out, const Tensor<T>& x) {
  std::vector<int64_t> xpos = storage_positions(x.shape(), x.strides(), x.storage_offset());
  std::vector<int64_t> sorted = xpos;
  std::sort(sorted.begin(), sorted.end());
  EMBER_CHECK_VALUE(std::adjacent_find(sorted.begin(), sorted.end()) == sorted.end(),
                    "as_strided: cannot compute the gradient of an input whose elements overlap "
                    "in memory (shape ",
                    x.shape(), ", strides ", x.strides(),
                    "); pass a contiguous() copy of it instead");
  for (int64_t p : storage_positions(out.shape(), out.strides(), out.storage_offset())) {
    EMBER_CHECK_VALUE(std::binary_search(sorted.begin(), sorted.end(), p),
                      "as_strided: the result (shape ", out.shape(), ", strides ", out.strides(),
                      ", offset ", out.storage_offset(), ") reads storage element ", p,
                      ", which is not an element of the input (shape ", x.shape(), ", strides ",
                      x.strides(), ", offset ", x.storage_offset(),
                      "), so its gradient would be lost; call as_strided on the tensor that owns "
                      "that memory");
  }
  autograd::record(
      out, "AsStridedBackward", {x},
      [xpos = std::move(xpos), lo = sorted.empty() ? 0 : sorted.front(),
       hi = sorted.empty() ? -1 : sorted.back(), shape = x.shape(), oshape = out.shape(),
       ostrides = out.strides(), ooffset = out.storage_offset()](const Tensor<T>& g) {
        std::vector<T> buf(static_cast<std::size_t>(hi - lo + 1), T(0));
        const Tensor<T> gc = g.contiguous();
        const std::vector<int64_t> opos = storage_positions(oshape, ostrides, ooffset);
        for (std::size_t j = 0; j < opos.size(); ++j) {
          buf[static_cast<std::size_t>(opos[j] - lo)] += gc.data()[j];
        }
        Tensor<T> gx(shape);
        for (std::size_t i = 0; i < xpos.size(); ++i) {
          gx.data()[i] = buf[static_cast<std::size_t>(xpos[i] - lo)];
        }
        return std::vector<Tensor<T>>{gx};
      });
}
}  // namespace detail

// Every view below is differentiable: the forward runs as before, and when recording, the rule
// beside it maps the gradient of the view back to the input's shape.

template <class T>
Tensor<T> Tensor<T>::operator[](int64_t i) const {
  return select(0, i);
}

template <class T>
Tensor<T> Tensor<T>::as_strided(const Shape& shape, const Shape& strides, int64_t offset) const {
  check_defined("as_strided");
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, shape, strides, offset); },
      [&](auto& out) { detail::record_as_strided(out, *this); });
}

template <class T>
Tensor<T> Tensor<T>::view(const Shape& shape) const {
  check_defined("view");
  const Shape target = detail::infer_size(shape, numel(), "view");
  Shape st;
  EMBER_CHECK_SHAPE(detail::view_strides(shape_, strides_, target, st), "view: shape ", shape,
                    " is not compatible with the input's size ", shape_, " and strides ", strides_,
                    " (at least one dimension spans two contiguous subspaces); use reshape()");
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, target, st, offset_); },
      [&](auto& out) { detail::record_reshape(out, *this, "ViewBackward"); });
}

template <class T>
Tensor<T> Tensor<T>::reshape(const Shape& shape) const {
  check_defined("reshape");
  const Shape target = detail::infer_size(shape, numel(), "reshape");
  // Both paths (a view, or a contiguous copy) have the same gradient: g in the input's shape.
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Shape st;
        if (detail::view_strides(shape_, strides_, target, st))
          return Tensor(storage_, target, st, offset_);
        return contiguous().view(target);
      },
      [&](auto& out) { detail::record_reshape(out, *this, "ReshapeBackward"); });
}

// flatten is a reshape, and differentiable through it.
template <class T>
Tensor<T> Tensor<T>::flatten(int64_t start_dim, int64_t end_dim) const {
  check_defined("flatten");
  if (dim() == 0) return reshape({1});
  const int64_t s = detail::wrap_dim(start_dim, dim(), "flatten");
  const int64_t e = detail::wrap_dim(end_dim, dim(), "flatten");
  EMBER_CHECK_VALUE(s <= e, "flatten: start_dim ", start_dim, " comes after end_dim ", end_dim);
  Shape target(shape_.begin(), shape_.begin() + s);
  int64_t n = 1;
  for (int64_t d = s; d <= e; ++d) n *= shape_[static_cast<std::size_t>(d)];
  target.push_back(n);
  target.insert(target.end(), shape_.begin() + e + 1, shape_.end());
  return reshape(target);
}

template <class T>
Tensor<T> Tensor<T>::squeeze() const {
  check_defined("squeeze");
  Shape sh, st;
  for (std::size_t d = 0; d < shape_.size(); ++d) {
    if (shape_[d] != 1) {
      sh.push_back(shape_[d]);
      st.push_back(strides_[d]);
    }
  }
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, sh, st, offset_); },
      [&](auto& out) { detail::record_reshape(out, *this, "SqueezeBackward"); });
}

template <class T>
Tensor<T> Tensor<T>::squeeze(int64_t d) const {
  check_defined("squeeze");
  if (dim() == 0) {
    detail::wrap_dim(d, 0, "squeeze");
    return *this;
  }
  const auto w = static_cast<std::size_t>(detail::wrap_dim(d, dim(), "squeeze"));
  if (shape_[w] != 1) return *this;
  Shape sh = shape_, st = strides_;
  sh.erase(sh.begin() + static_cast<std::ptrdiff_t>(w));
  st.erase(st.begin() + static_cast<std::ptrdiff_t>(w));
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, sh, st, offset_); },
      [&](auto& out) { detail::record_reshape(out, *this, "SqueezeBackward"); });
}

template <class T>
Tensor<T> Tensor<T>::unsqueeze(int64_t d) const {
  check_defined("unsqueeze");
  const auto w = static_cast<std::size_t>(detail::wrap_dim(d, dim() + 1, "unsqueeze"));
  Shape sh = shape_, st = strides_;
  const int64_t stride = w < shape_.size() ? shape_[w] * strides_[w] : 1;
  sh.insert(sh.begin() + static_cast<std::ptrdiff_t>(w), 1);
  st.insert(st.begin() + static_cast<std::ptrdiff_t>(w), stride);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, sh, st, offset_); },
      [&](auto& out) { detail::record_reshape(out, *this, "UnsqueezeBackward"); });
}

template <class T>
Tensor<T> Tensor<T>::permute(const std::vector<int64_t>& dims) const {
  check_defined("permute");
  EMBER_CHECK_SHAPE(static_cast<int64_t>(dims.size()) == dim(), "permute: ", dims.size(),
                    " dims given for a ", dim(), "-d tensor (dims ", dims, ")");
  Shape sh(dims.size()), st(dims.size());
  std::vector<int64_t> inverse(dims.size());
  std::vector<bool> seen(dims.size(), false);
  for (std::size_t i = 0; i < dims.size(); ++i) {
    const auto w = static_cast<std::size_t>(detail::wrap_dim(dims[i], dim(), "permute"));
    EMBER_CHECK_VALUE(!seen[w], "permute: dimension ", dims[i], " repeats in ", dims);
    seen[w] = true;
    sh[i] = shape_[w];
    st[i] = strides_[w];
    inverse[w] = static_cast<int64_t>(i);
  }
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, sh, st, offset_); },
      [&](auto& out) {
        autograd::record(out, "PermuteBackward", {*this}, [inverse](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{g.permute(inverse)};
        });
      });
}

template <class T>
Tensor<T> Tensor<T>::transpose(int64_t dim0, int64_t dim1) const {
  check_defined("transpose");
  if (dim() == 0) return *this;
  const auto a = static_cast<std::size_t>(detail::wrap_dim(dim0, dim(), "transpose"));
  const auto b = static_cast<std::size_t>(detail::wrap_dim(dim1, dim(), "transpose"));
  Shape sh = shape_, st = strides_;
  std::swap(sh[a], sh[b]);
  std::swap(st[a], st[b]);
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, sh, st, offset_); },
      [&](auto& out) {
        const auto ia = static_cast<int64_t>(a), ib = static_cast<int64_t>(b);
        autograd::record(out, "TransposeBackward", {*this}, [ia, ib](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{g.transpose(ia, ib)};
        });
      });
}

// t() is a transpose, and differentiable through it.
template <class T>
Tensor<T> Tensor<T>::t() const {
  check_defined("t");
  EMBER_CHECK_SHAPE(dim() <= 2, "t: expects a tensor with <= 2 dimensions, got ", dim(), " (shape ",
                    shape_, "); use transpose(dim0, dim1)");
  return dim() < 2 ? *this : transpose(0, 1);
}

template <class T>
Tensor<T> Tensor<T>::slice(int64_t d, int64_t start, int64_t end, int64_t step) const {
  check_defined("slice");
  const auto w = static_cast<std::size_t>(detail::wrap_dim(d, dim(), "slice"));
  EMBER_CHECK_VALUE(dim() > 0, "slice: cannot slice a 0-d tensor");
  EMBER_CHECK_VALUE(step > 0, "slice: step must be positive, got ", step);
  const int64_t n = shape_[w];
  // Python slice semantics: negative bounds count from the end, then clamp into [0, n].
  if (start < 0) start += n;
  if (end < 0) end += n;
  start = std::clamp<int64_t>(start, 0, n);
  end = std::clamp<int64_t>(end, start, n);
  Shape sh = shape_, st = strides_;
  sh[w] = (end - start + step - 1) / step;
  st[w] = strides_[w] * step;
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] { return Tensor(storage_, sh, st, offset_ + (sh[w] > 0 ? start * strides_[w] : 0)); },
      [&](auto& out) {
        const auto wd = static_cast<int64_t>(w);
        detail::record_pick(out, *this, "SliceBackward", [wd, start, end, step](const Tensor& z) {
          return z.slice(wd, start, end, step);
        });
      });
}

// narrow is a slice, and differentiable through it (so are split and chunk, built on narrow).
template <class T>
Tensor<T> Tensor<T>::narrow(int64_t d, int64_t start, int64_t length) const {
  check_defined("narrow");
  EMBER_CHECK_VALUE(dim() > 0, "narrow: cannot narrow a 0-d tensor");
  const auto w = static_cast<std::size_t>(detail::wrap_dim(d, dim(), "narrow"));
  const int64_t n = shape_[w];
  EMBER_CHECK_INDEX(start >= -n && start <= n, "narrow: start ", start,
                    " is out of range for dimension ", w, " of size ", n);
  if (start < 0) start += n;
  EMBER_CHECK_INDEX(length >= 0 && start + length <= n, "narrow: start ", start, " + length ",
                    length, " exceeds dimension ", w, " of size ", n);
  return slice(static_cast<int64_t>(w), start, start + length, 1);
}

template <class T>
Tensor<T> Tensor<T>::select(int64_t d, int64_t index) const {
  check_defined("select");
  EMBER_CHECK_INDEX(dim() > 0, "select: cannot select from a 0-d tensor");
  const auto w = static_cast<std::size_t>(detail::wrap_dim(d, dim(), "select"));
  const int64_t n = shape_[w];
  EMBER_CHECK_INDEX(index >= -n && index < n, "select: index ", index,
                    " is out of range for dimension ", w, " of size ", n);
  if (index < 0) index += n;
  Shape sh = shape_, st = strides_;
  sh.erase(sh.begin() + static_cast<std::ptrdiff_t>(w));
  st.erase(st.begin() + static_cast<std::ptrdiff_t>(w));
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] { return Tensor(storage_, sh, st, offset_ + index * strides_[w]); },
      [&](auto& out) {
        const auto wd = static_cast<int64_t>(w);
        detail::record_pick(out, *this, "SelectBackward",
                            [wd, index](const Tensor& z) { return z.select(wd, index); });
      });
}

// expand (and expand_as, broadcast_to): the gradient is summed back over the expanded dims.
template <class T>
Tensor<T> Tensor<T>::expand(const Shape& shape) const {
  check_defined("expand");
  EMBER_CHECK_SHAPE(shape.size() >= shape_.size(), "expand: the number of sizes provided (",
                    shape.size(), ") must be at least the number of dimensions (", dim(),
                    "); cannot expand ", shape_, " to ", shape);
  const std::size_t lead = shape.size() - shape_.size();
  Shape sh(shape.size()), st(shape.size(), 0);
  for (std::size_t i = 0; i < shape.size(); ++i) {
    if (i < lead) {
      EMBER_CHECK_SHAPE(shape[i] >= 0, "expand: cannot expand ", shape_, " to ", shape,
                        " (-1 is not allowed in a new leading dimension)");
      sh[i] = shape[i];
      continue;
    }
    const int64_t cur = shape_[i - lead];
    const int64_t want = shape[i] == -1 ? cur : shape[i];
    EMBER_CHECK_SHAPE(want == cur || cur == 1, "expand: cannot expand ", shape_, " to ", shape,
                      " (dimension ", i, ": size ", cur, " must match ", want, " or be 1)");
    sh[i] = want;
    st[i] = want == cur ? strides_[i - lead] : 0;
  }
  return autograd::differentiable<T>(
      autograd::needs_grad(*this), [&] { return Tensor(storage_, sh, st, offset_); },
      [&](auto& out) {
        autograd::record(out, "ExpandBackward", {*this}, [in = shape_](const Tensor<T>& g) {
          return std::vector<Tensor<T>>{autograd::sum_to(g, in)};
        });
      });
}

// contiguous is the input itself or its clone, and differentiable through clone.
template <class T>
Tensor<T> Tensor<T>::contiguous() const {
  check_defined("contiguous");
  return is_contiguous() ? *this : clone();
}

template <class T>
Tensor<T> Tensor<T>::clone() const {
  check_defined("clone");
  return autograd::differentiable<T>(
      autograd::needs_grad(*this),
      [&] {
        Tensor out(shape_);
        detail::copy_into(out, *this);
        return out;
      },
      [&](auto& out) {
        autograd::record(out, "CloneBackward", {*this},
                         [](const Tensor<T>& g) { return std::vector<Tensor<T>>{g}; });
      });
}

// to<U>(): a copy converted to U. Nodes are typed, so a float <-> double conversion cannot join
// the graph: converting a tensor that requires grad while recording is an error rather than a
// silently detached result. Conversion to int64 is not differentiable (like PyTorch) and allowed.
template <class T>
template <class U>
Tensor<U> Tensor<T>::to() const {
  check_defined("to");
  if constexpr (std::is_same_v<T, U>) {
    return clone();
  } else {
    if constexpr (std::is_floating_point_v<U>) {
      EMBER_CHECK_TYPE(!autograd::needs_grad(*this), "to: cannot convert a ", dtype_name<T>(),
                       " tensor of shape ", shape_, " that requires grad to ", dtype_name<U>(),
                       " while gradients are recorded (the result could not join the autograd "
                       "graph); convert the leaf before requires_grad_(), call detach() first, or "
                       "convert under NoGradGuard");
    }
    Tensor<U> out(shape_);
    detail::copy_into(out, *this);
    return out;
  }
}

template <class T>
Tensor<T>& Tensor<T>::copy_(const Tensor& src) {
  autograd::check_inplace(*this, "copy_");
  check_defined("copy_");
  src.check_defined("copy_");
  detail::broadcast_shapes(shape_, src.shape(), "copy_");
  EMBER_CHECK_SHAPE(detail::broadcast_shapes(shape_, src.shape(), "copy_") == shape_,
                    "copy_: source of shape ", src.shape(), " cannot be broadcast to ", shape_);
  detail::copy_into(*this, src.expand(shape_));
  bump_version();
  return *this;
}

}  // namespace ember
