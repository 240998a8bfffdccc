// ember: the Tensor<T> handle. A cheap, copyable handle to shared storage plus shape, strides and
// offset: copies and views alias the same memory, like PyTorch. This header declares the whole
// member API; the op headers (views, elementwise, reduction, linalg, indexing) define it and
// ember/core/tensor.hpp includes them all.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/core/autograd_meta.hpp"
#include "ember/core/shape.hpp"
#include "ember/core/storage.hpp"
#include "ember/error.hpp"

namespace ember {

namespace autograd {
template <class T>
class Node;
}  // namespace autograd

template <class T>
inline constexpr bool is_tensor_dtype_v =
    std::is_same_v<T, float> || std::is_same_v<T, double> || std::is_same_v<T, int64_t>;

template <class T>
constexpr const char* dtype_name() noexcept {
  if constexpr (std::is_same_v<T, float>)
    return "float32";
  else if constexpr (std::is_same_v<T, double>)
    return "float64";
  else
    return "int64";
}

template <class T>
class Tensor;

template <class T>
struct ValuesIndices;

template <class T>
class Tensor {
  static_assert(is_tensor_dtype_v<T>, "ember::Tensor supports float, double and int64_t");

 public:
  using value_type = T;

  // An undefined tensor (no storage); most ops reject it.
  Tensor() noexcept {}  // user-provided: Tensor() is not zero-filled first (value-initialization)
  // A view onto existing storage. Checks that every reachable element lies inside the storage.
  Tensor(std::shared_ptr<detail::Storage<T>> storage, Shape shape, Shape strides, int64_t offset);
  // A fresh, uninitialised, contiguous tensor.
  explicit Tensor(const Shape& shape);

  // ---- metadata ---------------------------------------------------------------------------
  bool defined() const noexcept { return storage_ != nullptr; }
  int64_t dim() const noexcept { return static_cast<int64_t>(shape_.size()); }
  const Shape& sizes() const noexcept { return shape_; }
  const Shape& shape() const noexcept { return shape_; }
  const Shape& strides() const noexcept { return strides_; }
  int64_t size(int64_t d) const {
    return shape_[static_cast<std::size_t>(detail::wrap_dim(d, dim(), "size"))];
  }
  int64_t stride(int64_t d) const {
    return strides_[static_cast<std::size_t>(detail::wrap_dim(d, dim(), "stride"))];
  }
  int64_t numel() const noexcept { return detail::numel_of(shape_); }
  int64_t storage_offset() const noexcept { return offset_; }
  bool is_contiguous() const noexcept { return detail::is_contiguous_layout(shape_, strides_); }
  const char* dtype() const noexcept { return dtype_name<T>(); }

  // Pointer to the first element (element [0, ..., 0]); strides say where the others are.
  T* data() const noexcept { return storage_ ? storage_->data() + offset_ : nullptr; }
  T* data_ptr() const noexcept { return data(); }
  const std::shared_ptr<detail::Storage<T>>& storage() const noexcept { return storage_; }
  bool shares_storage_with(const Tensor& o) const noexcept { return storage_ == o.storage_; }

  // Bumped by every in-place op on this storage (views share it); autograd compares it.
  uint64_t version() const noexcept { return storage_ ? storage_->version() : 0; }
  void bump_version() const noexcept {
    if (storage_) storage_->bump_version();
  }
  const std::shared_ptr<detail::AutogradMeta>& autograd_meta() const noexcept { return autograd_; }
  void set_autograd_meta(std::shared_ptr<detail::AutogradMeta> m) { autograd_ = std::move(m); }

  // ---- element access (bounds-checked, negative indices wrap) -----------------------------
  T item() const;
  T& at(const std::vector<int64_t>& index) const { return at_(index.data(), index.size()); }
  // t(i, j, k): no allocation, so it is fine in a loop.
  template <class... I, class = std::enable_if_t<(std::is_integral_v<I> && ...)>>
  T& operator()(I... index) const {
    const int64_t idx[sizeof...(I) > 0 ? sizeof...(I) : 1] = {static_cast<int64_t>(index)...};
    return at_(idx, sizeof...(I));
  }
  // t[i] is select(0, i), a view.
  Tensor operator[](int64_t i) const;

  // ---- views (share storage) and copies (views.hpp) ----------------------------------------
  Tensor view(const Shape& shape) const;
  Tensor reshape(const Shape& shape) const;
  Tensor flatten(int64_t start_dim = 0, int64_t end_dim = -1) const;
  Tensor squeeze() const;
  Tensor squeeze(int64_t dim) const;
  Tensor unsqueeze(int64_t dim) const;
  Tensor permute(const std::vector<int64_t>& dims) const;
  Tensor transpose(int64_t dim0, int64_t dim1) const;
  Tensor t() const;
  Tensor slice(int64_t dim, int64_t start, int64_t end, int64_t step = 1) const;
  Tensor narrow(int64_t dim, int64_t start, int64_t length) const;
  Tensor select(int64_t dim, int64_t index) const;
  Tensor expand(const Shape& shape) const;
  Tensor expand_as(const Tensor& other) const { return expand(other.shape()); }
  Tensor broadcast_to(const Shape& shape) const { return expand(shape); }
  Tensor as_strided(const Shape& shape, const Shape& strides, int64_t offset) const;
  Tensor contiguous() const;
  Tensor clone() const;
  template <class U>
  Tensor<U> to() const;

  // ---- elementwise (elementwise.hpp); `other` broadcasts NumPy-style -----------------------
  Tensor add(const Tensor& other) const;
  Tensor sub(const Tensor& other) const;
  Tensor mul(const Tensor& other) const;
  Tensor div(const Tensor& other) const;
  Tensor pow(const Tensor& exponent) const;
  Tensor maximum(const Tensor& other) const;
  Tensor minimum(const Tensor& other) const;
  Tensor add(T s) const;
  Tensor sub(T s) const;
  Tensor mul(T s) const;
  Tensor div(T s) const;
  Tensor pow(T exponent) const;
  Tensor neg() const;
  Tensor abs() const;
  Tensor exp() const;
  Tensor log() const;
  Tensor sqrt() const;
  Tensor rsqrt() const;
  Tensor tanh() const;
  Tensor sigmoid() const;
  Tensor relu() const;
  Tensor sign() const;
  Tensor clamp(T min, T max) const;
  Tensor clamp_min(T min) const;
  Tensor clamp_max(T max) const;
  // Comparisons and logical ops give 1 where true and 0 where false, in this element type.
  Tensor eq(const Tensor& o) const;
  Tensor ne(const Tensor& o) const;
  Tensor lt(const Tensor& o) const;
  Tensor le(const Tensor& o) const;
  Tensor gt(const Tensor& o) const;
  Tensor ge(const Tensor& o) const;
  Tensor eq(T s) const;
  Tensor ne(T s) const;
  Tensor lt(T s) const;
  Tensor le(T s) const;
  Tensor gt(T s) const;
  Tensor ge(T s) const;
  Tensor logical_and(const Tensor& o) const;
  Tensor logical_or(const Tensor& o) const;
  Tensor logical_xor(const Tensor& o) const;
  Tensor logical_not() const;

  // In-place: write into this tensor's memory (other broadcasts to this shape); bump the version.
  Tensor& add_(const Tensor& other);
  Tensor& sub_(const Tensor& other);
  Tensor& mul_(const Tensor& other);
  Tensor& div_(const Tensor& other);
  Tensor& pow_(const Tensor& exponent);
  Tensor& add_(T s);
  Tensor& sub_(T s);
  Tensor& mul_(T s);
  Tensor& div_(T s);
  Tensor& pow_(T exponent);
  Tensor& neg_();
  Tensor& abs_();
  Tensor& exp_();
  Tensor& log_();
  Tensor& sqrt_();
  Tensor& rsqrt_();
  Tensor& tanh_();
  Tensor& sigmoid_();
  Tensor& relu_();
  Tensor& sign_();
  Tensor& clamp_(T min, T max);
  Tensor& fill_(T value);
  Tensor& zero_() { return fill_(T(0)); }
  Tensor& copy_(const Tensor& src);

  // ---- reductions (reduction.hpp); empty dims = every dim ---------------------------------
  Tensor sum(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor mean(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor prod(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor amax(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor amin(const std::vector<int64_t>& dims = {}, bool keepdim = false) const;
  Tensor max() const { return amax(); }
  Tensor min() const { return amin(); }
  ValuesIndices<T> max(int64_t dim, bool keepdim = false) const;
  ValuesIndices<T> min(int64_t dim, bool keepdim = false) const;
  Tensor<int64_t> argmax() const;
  Tensor<int64_t> argmin() const;
  Tensor<int64_t> argmax(int64_t dim, bool keepdim = false) const;
  Tensor<int64_t> argmin(int64_t dim, bool keepdim = false) const;
  Tensor var(const std::vector<int64_t>& dims = {}, bool unbiased = true,
             bool keepdim = false) const;
  Tensor std(const std::vector<int64_t>& dims = {}, bool unbiased = true,
             bool keepdim = false) const;
  Tensor logsumexp(const std::vector<int64_t>& dims, bool keepdim = false) const;
  // p = 1, 2 or infinity.
  Tensor norm(double p = 2, const std::vector<int64_t>& dims = {}, bool keepdim = false) const;

  // ---- linear algebra (linalg.hpp) ---------------------------------------------------------
  Tensor matmul(const Tensor& other) const;
  Tensor mm(const Tensor& other) const;
  Tensor bmm(const Tensor& other) const;

  // ---- indexing (indexing.hpp) -------------------------------------------------------------
  Tensor index_select(int64_t dim, const Tensor<int64_t>& index) const;
  Tensor gather(int64_t dim, const Tensor<int64_t>& index) const;
  Tensor scatter(int64_t dim, const Tensor<int64_t>& index, const Tensor& src) const;
  Tensor& scatter_(int64_t dim, const Tensor<int64_t>& index, const Tensor& src);
  Tensor scatter_add(int64_t dim, const Tensor<int64_t>& index, const Tensor& src) const;
  Tensor& scatter_add_(int64_t dim, const Tensor<int64_t>& index, const Tensor& src);
  // mask: any element type, nonzero means true; broadcasts to this shape.
  template <class M>
  Tensor masked_fill(const Tensor<M>& mask, T value) const;
  template <class M>
  Tensor& masked_fill_(const Tensor<M>& mask, T value);
  Tensor tril(int64_t diagonal = 0) const;
  Tensor triu(int64_t diagonal = 0) const;
  std::vector<Tensor> split(int64_t split_size, int64_t dim = 0) const;
  std::vector<Tensor> split(const std::vector<int64_t>& sizes, int64_t dim = 0) const;
  std::vector<Tensor> chunk(int64_t chunks, int64_t dim = 0) const;

  // ---- autograd (ember/autograd/tensor_autograd.hpp) ---------------------------------------
  // Autograd state is null for plain tensors; copies of a handle share it, views get their own.
  bool requires_grad() const noexcept { return autograd_ && autograd_->requires_grad; }
  Tensor& requires_grad_(bool requires = true);
  bool is_leaf() const noexcept;
  // The accumulated gradient (undefined until a backward reaches this tensor).
  Tensor grad() const;
  void set_grad(const Tensor& g);
  std::shared_ptr<autograd::Node<T>> grad_fn() const;
  // Backpropagates from this tensor; gradient may be omitted for a single-element tensor.
  void backward(const Tensor& gradient = Tensor(), bool retain_graph = false) const;
  // The same memory without autograd state.
  Tensor detach() const;
  // hook: Tensor(const Tensor& grad) to replace the gradient, or void(const Tensor&) to inspect.
  template <class F>
  void register_hook(F&& hook);
  // Keep .grad for a non-leaf tensor too.
  void retain_grad();

  // Throws if this tensor is undefined (op names the caller).
  void check_defined(const char* op) const {
    EMBER_CHECK_STATE(defined(), op, ": called on an undefined tensor");
  }

 private:
  T& at_(const int64_t* index, std::size_t n) const;

  std::shared_ptr<detail::Storage<T>> storage_;
  Shape shape_;
  Shape strides_;
  int64_t offset_ = 0;
  std::shared_ptr<detail::AutogradMeta> autograd_;
};

// Result of max/min/min ops over one dim: values and their int64 positions.
template <class T>
struct ValuesIndices {
  Tensor<T> values;
  Tensor<int64_t> indices;
};

// ---- inline definitions of the constructors and element access --------------------------------

template <class T>
Tensor<T>::Tensor(std::shared_ptr<detail::Storage<T>> storage, Shape shape, Shape strides,
                  int64_t offset)
    : storage_(std::move(storage)),
      shape_(std::move(shape)),
      strides_(std::move(strides)),
      offset_(offset) {
  EMBER_CHECK_SHAPE(shape_.size() == strides_.size(), "Tensor: shape ", shape_, " and strides ",
                    strides_, " have different lengths");
  detail::check_sizes_nonnegative(shape_, "Tensor");
  EMBER_CHECK_STATE(storage_ != nullptr, "Tensor: null storage");
  // The lowest and highest element reachable must lie in [0, storage size).
  if (numel() > 0) {
    int64_t lo = offset_, hi = offset_;
    for (std::size_t i = 0; i < shape_.size(); ++i) {
      const int64_t span = (shape_[i] - 1) * strides_[i];
      (span < 0 ? lo : hi) += span;
    }
    EMBER_CHECK_INDEX(lo >= 0 && hi < static_cast<int64_t>(storage_->size()), "Tensor: shape ",
                      shape_, " with strides ", strides_, " and offset ", offset_,
                      " reaches outside a storage of ", storage_->size(), " elements");
  }
}

template <class T>
Tensor<T>::Tensor(const Shape& shape) : shape_(shape), strides_(detail::contiguous_strides(shape)) {
  detail::check_sizes_nonnegative(shape_, "empty");
  storage_ = std::make_shared<detail::Storage<T>>(static_cast<std::size_t>(numel()));
}

template <class T>
T Tensor<T>::item() const {
  check_defined("item");
  EMBER_CHECK_VALUE(numel() == 1, "item: a tensor with ", numel(),
                    " elements cannot be converted to a scalar (shape ", shape_, ")");
  return *data();
}

template <class T>
T& Tensor<T>::at_(const int64_t* index, std::size_t n) const {
  check_defined("at");
  EMBER_CHECK_INDEX(static_cast<int64_t>(n) == dim(), "at: ", n, " indices given for a ", dim(),
                    "-d tensor of shape ", shape_);
  int64_t off = offset_;
  for (std::size_t d = 0; d < n; ++d) {
    int64_t i = index[d];
    EMBER_CHECK_INDEX(i >= -shape_[d] && i < shape_[d], "at: index ", i,
                      " is out of range for dimension ", d, " of size ", shape_[d]);
    if (i < 0) i += shape_[d];
    off += i * strides_[d];
  }
  return storage_->data()[off];
}

}  // namespace ember
