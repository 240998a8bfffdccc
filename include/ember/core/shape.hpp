// ember: shapes, strides and broadcasting rules (PyTorch semantics, signed int64 sizes).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <iterator>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

#include "ember/error.hpp"

namespace ember {

// Sizes and strides are signed like PyTorch's, so -1 can mean "infer" and dims can wrap.
//
// A Shape is a small vector of int64_t: up to `inline_capacity` dims live inside the object, so
// making, copying and destroying the shape and strides of a tensor allocate nothing (a heap buffer
// is used only beyond that). It has the part of the std::vector interface ember uses, converts
// implicitly from and to std::vector<int64_t>, and compares and prints like one.
class Shape {
 public:
  using value_type = int64_t;
  using size_type = std::size_t;
  using difference_type = std::ptrdiff_t;
  using reference = int64_t&;
  using const_reference = const int64_t&;
  using pointer = int64_t*;
  using const_pointer = const int64_t*;
  using iterator = int64_t*;
  using const_iterator = const int64_t*;
  using reverse_iterator = std::reverse_iterator<iterator>;
  using const_reverse_iterator = std::reverse_iterator<const_iterator>;

  static constexpr size_type inline_capacity = 6;

  Shape() noexcept {}  // user-provided, so Shape() leaves the inline storage alone
  explicit Shape(size_type n) { assign(n, 0); }
  Shape(size_type n, int64_t value) { assign(n, value); }
  Shape(std::initializer_list<int64_t> il) { assign(il.begin(), il.end()); }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>,
            class = typename std::iterator_traits<It>::iterator_category>
  Shape(It first, It last) {
    assign(first, last);
  }
  // NOLINTNEXTLINE(google-explicit-constructor): a std::vector<int64_t> is accepted everywhere.
  Shape(const std::vector<int64_t>& v) { assign(v.begin(), v.end()); }
  Shape(const Shape& o) { copy_from(o); }
  Shape(Shape&& o) noexcept { steal(o); }
  Shape& operator=(const Shape& o) {
    if (this != &o) copy_from(o);
    return *this;
  }
  Shape& operator=(Shape&& o) noexcept {
    if (this != &o) {
      release();
      steal(o);
    }
    return *this;
  }
  Shape& operator=(std::initializer_list<int64_t> il) {
    assign(il.begin(), il.end());
    return *this;
  }
  ~Shape() { release(); }

  // NOLINTNEXTLINE(google-explicit-constructor)
  operator std::vector<int64_t>() const { return std::vector<int64_t>(begin(), end()); }
  std::vector<int64_t> vec() const { return std::vector<int64_t>(begin(), end()); }

  // ---- size and access ----------------------------------------------------------------------
  size_type size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  size_type capacity() const noexcept { return cap_; }
  int64_t* data() noexcept { return data_; }
  const int64_t* data() const noexcept { return data_; }
  int64_t& operator[](size_type i) noexcept { return data_[i]; }
  const int64_t& operator[](size_type i) const noexcept { return data_[i]; }
  int64_t& at(size_type i) {
    check_at(i);
    return data_[i];
  }
  const int64_t& at(size_type i) const {
    check_at(i);
    return data_[i];
  }
  int64_t& front() noexcept { return data_[0]; }
  const int64_t& front() const noexcept { return data_[0]; }
  int64_t& back() noexcept { return data_[size_ - 1]; }
  const int64_t& back() const noexcept { return data_[size_ - 1]; }

  iterator begin() noexcept { return data_; }
  iterator end() noexcept { return data_ + size_; }
  const_iterator begin() const noexcept { return data_; }
  const_iterator end() const noexcept { return data_ + size_; }
  const_iterator cbegin() const noexcept { return data_; }
  const_iterator cend() const noexcept { return data_ + size_; }
  reverse_iterator rbegin() noexcept { return reverse_iterator(end()); }
  reverse_iterator rend() noexcept { return reverse_iterator(begin()); }
  const_reverse_iterator rbegin() const noexcept { return const_reverse_iterator(end()); }
  const_reverse_iterator rend() const noexcept { return const_reverse_iterator(begin()); }

  // ---- modifiers ----------------------------------------------------------------------------
  void reserve(size_type n) {
    if (n > cap_) grow_to(n);
  }
  void clear() noexcept { size_ = 0; }
  void push_back(int64_t v) {
    if (size_ == cap_) grow_to(cap_ * 2);
    data_[size_++] = v;
  }
  void emplace_back(int64_t v) { push_back(v); }
  void pop_back() noexcept { --size_; }
  void resize(size_type n, int64_t value = 0) {
    reserve(n);
    for (size_type i = size_; i < n; ++i) data_[i] = value;
    size_ = static_cast<uint32_t>(n);
  }
  void assign(size_type n, int64_t value) {
    size_ = 0;
    resize(n, value);
  }
  template <class It>
  void assign(It first, It last) {
    size_ = 0;
    if constexpr (std::is_base_of_v<std::forward_iterator_tag,
                                    typename std::iterator_traits<It>::iterator_category>) {
      reserve(static_cast<size_type>(std::distance(first, last)));
    }
    for (; first != last; ++first) push_back(static_cast<int64_t>(*first));
  }
  iterator insert(const_iterator pos, int64_t v) { return insert(pos, size_type{1}, v); }
  iterator insert(const_iterator pos, size_type n, int64_t v) {
    const auto at = static_cast<size_type>(pos - data_);
    reserve(size_ + n);
    std::memmove(data_ + at + n, data_ + at, (size_ - at) * sizeof(int64_t));
    for (size_type i = 0; i < n; ++i) data_[at + i] = v;
    size_ += static_cast<uint32_t>(n);
    return data_ + at;
  }
  template <class It, class = std::enable_if_t<!std::is_integral_v<It>>>
  iterator insert(const_iterator pos, It first, It last) {
    const auto at = static_cast<size_type>(pos - data_);
    const Shape tmp(first, last);  // first..last may point into *this
    reserve(size_ + tmp.size());
    std::memmove(data_ + at + tmp.size(), data_ + at, (size_ - at) * sizeof(int64_t));
    std::copy(tmp.begin(), tmp.end(), data_ + at);
    size_ += tmp.size_;
    return data_ + at;
  }
  iterator insert(const_iterator pos, std::initializer_list<int64_t> il) {
    return insert(pos, il.begin(), il.end());
  }
  iterator erase(const_iterator pos) { return erase(pos, pos + 1); }
  iterator erase(const_iterator first, const_iterator last) {
    const auto at = static_cast<size_type>(first - data_);
    const auto n = static_cast<size_type>(last - first);
    std::memmove(data_ + at, data_ + at + n, (size_ - at - n) * sizeof(int64_t));
    size_ -= static_cast<uint32_t>(n);
    return data_ + at;
  }
  void swap(Shape& o) noexcept {
    Shape tmp(std::move(o));
    o = std::move(*this);
    *this = std::move(tmp);
  }

  // ---- comparisons (element-wise, then by length, like std::vector) -------------------------
  friend bool operator==(const Shape& a, const Shape& b) noexcept {
    return a.size_ == b.size_ && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator!=(const Shape& a, const Shape& b) noexcept { return !(a == b); }
  friend bool operator<(const Shape& a, const Shape& b) noexcept {
    return std::lexicographical_compare(a.begin(), a.end(), b.begin(), b.end());
  }
  friend bool operator>(const Shape& a, const Shape& b) noexcept { return b < a; }
  friend bool operator<=(const Shape& a, const Shape& b) noexcept { return !(b < a); }
  friend bool operator>=(const Shape& a, const Shape& b) noexcept { return !(a < b); }
  // With a std::vector on either side (no conversion, no allocation).
  friend bool operator==(const Shape& a, const std::vector<int64_t>& b) noexcept {
    return a.size_ == b.size() && std::equal(a.begin(), a.end(), b.begin());
  }
  friend bool operator==(const std::vector<int64_t>& a, const Shape& b) noexcept { return b == a; }
  friend bool operator!=(const Shape& a, const std::vector<int64_t>& b) noexcept {
    return !(a == b);
  }
  friend bool operator!=(const std::vector<int64_t>& a, const Shape& b) noexcept {
    return !(b == a);
  }

 private:
  bool is_inline() const noexcept { return data_ == inline_; }
  void check_at(size_type i) const {
    EMBER_CHECK_INDEX(i < size_, "Shape::at: index ", i, " is out of range for ", size_, " dims");
  }
  void grow_to(size_type n) {
    n = std::max(n, inline_capacity * 2);
    auto* p = static_cast<int64_t*>(::operator new(n * sizeof(int64_t)));
    if (size_ > 0) std::memcpy(p, data_, size_ * sizeof(int64_t));
    release();
    data_ = p;
    cap_ = static_cast<uint32_t>(n);
  }
  void release() noexcept {
    if (!is_inline()) ::operator delete(data_);
    data_ = inline_;
    cap_ = inline_capacity;
  }
  // Copies o's elements. Up to inline_capacity dims, a fixed-size copy of inline_capacity words
  // (a heap buffer always holds at least that many, so the read stays inside it).
  void copy_from(const Shape& o) {
    if (o.size_ <= inline_capacity && cap_ >= inline_capacity) {
      std::memcpy(data_, o.data_, inline_capacity * sizeof(int64_t));
      size_ = o.size_;
    } else {
      assign(o.begin(), o.end());
    }
  }
  // Takes o's contents (this must hold no heap buffer); leaves o empty and inline.
  void steal(Shape& o) noexcept {
    if (o.is_inline()) {
      std::memcpy(inline_, o.inline_, sizeof(inline_));
      data_ = inline_;
      cap_ = inline_capacity;
    } else {
      data_ = o.data_;
      cap_ = o.cap_;
      o.data_ = o.inline_;
      o.cap_ = inline_capacity;
    }
    size_ = o.size_;
    o.size_ = 0;
  }

  int64_t* data_ = inline_;
  uint32_t size_ = 0;  // 32-bit counts keep a Shape at 64 bytes
  uint32_t cap_ = inline_capacity;
  int64_t inline_[inline_capacity];  // not zeroed: only the first size_ are ever read as values
};

inline void swap(Shape& a, Shape& b) noexcept {
  a.swap(b);
}

namespace detail {

inline int64_t numel_of(const Shape& shape) {
  int64_t n = 1;
  for (int64_t s : shape) n *= s;
  return n;
}

// Row-major strides of a dense tensor (size-1 dims get the stride they would have if they grew).
inline Shape contiguous_strides(const Shape& shape) {
  Shape st(shape.size());
  int64_t acc = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    st[i] = acc;
    acc *= shape[i] > 1 ? shape[i] : 1;
  }
  return st;
}

// Whether shape/strides describe a dense row-major block (size-1 dims may have any stride).
inline bool is_contiguous_layout(const Shape& shape, const Shape& strides) {
  int64_t expected = 1;
  for (std::size_t i = shape.size(); i-- > 0;) {
    if (shape[i] == 1) continue;
    if (shape[i] == 0) return true;
    if (strides[i] != expected) return false;
    expected *= shape[i];
  }
  return true;
}

// Wraps a possibly negative dim into [0, ndim); ndim 0 accepts dims -1 and 0 like PyTorch.
inline int64_t wrap_dim(int64_t dim, int64_t ndim, const char* op) {
  const int64_t n = ndim > 0 ? ndim : 1;
  EMBER_CHECK_INDEX(dim >= -n && dim < n, op, ": dimension ", dim, " is out of range for a ", ndim,
                    "-d tensor (expected a dim in [", -n, ", ", n - 1, "])");
  return dim < 0 ? dim + n : dim;
}

// Sorted, wrapped, duplicate-free list of dims; empty input means every dim.
inline std::vector<int64_t> wrap_dims(const std::vector<int64_t>& dims, int64_t ndim,
                                      const char* op) {
  std::vector<int64_t> out;
  if (dims.empty()) {
    for (int64_t d = 0; d < ndim; ++d) out.push_back(d);
    return out;
  }
  std::vector<bool> seen(static_cast<std::size_t>(ndim > 0 ? ndim : 1), false);
  for (int64_t d : dims) {
    const int64_t w = wrap_dim(d, ndim, op);
    EMBER_CHECK_VALUE(!seen[static_cast<std::size_t>(w)], op, ": dimension ", d,
                      " appears more than once in ", dims);
    seen[static_cast<std::size_t>(w)] = true;
  }
  for (int64_t d = 0; d < static_cast<int64_t>(seen.size()); ++d) {
    if (seen[static_cast<std::size_t>(d)] && d < ndim) out.push_back(d);
  }
  return out;
}

inline void check_sizes_nonnegative(const Shape& shape, const char* op) {
  for (int64_t s : shape) {
    EMBER_CHECK_VALUE(s >= 0, op, ": negative dimension ", s, " in shape ", shape);
  }
}

// Resolves one -1 in a requested shape for a tensor of numel elements (view/reshape).
inline Shape infer_size(const Shape& requested, int64_t numel, const char* op) {
  Shape out = requested;
  int64_t known = 1;
  int64_t infer_at = -1;
  for (std::size_t i = 0; i < out.size(); ++i) {
    if (out[i] == -1) {
      EMBER_CHECK_SHAPE(infer_at < 0, op, ": only one dimension can be inferred, got ", requested);
      infer_at = static_cast<int64_t>(i);
    } else {
      EMBER_CHECK_VALUE(out[i] >= 0, op, ": invalid size ", out[i], " in shape ", requested);
      known *= out[i];
    }
  }
  if (infer_at >= 0) {
    EMBER_CHECK_SHAPE(known != 0 && numel % known == 0, op, ": shape ", requested,
                      " is invalid for input of size ", numel);
    out[static_cast<std::size_t>(infer_at)] = numel / known;
  } else {
    EMBER_CHECK_SHAPE(known == numel, op, ": shape ", requested, " is invalid for input of size ",
                      numel);
  }
  return out;
}

// NumPy broadcasting: align trailing dims; each pair must match or contain a 1.
inline Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  const std::size_t n = a.size() > b.size() ? a.size() : b.size();
  Shape out(n);
  for (std::size_t i = 0; i < n; ++i) {
    const int64_t da = i < n - a.size() ? 1 : a[i - (n - a.size())];
    const int64_t db = i < n - b.size() ? 1 : b[i - (n - b.size())];
    EMBER_CHECK_SHAPE(da == db || da == 1 || db == 1, op, ": shapes ", a, " and ", b,
                      " cannot be broadcast together (dimension ", i, ": ", da, " vs ", db, ")");
    out[i] = da == 1 ? db : da;
  }
  return out;
}

// Strides that read a tensor of (shape, strides) as if it had shape `to` (0 on broadcast dims).
// The caller has checked that shape broadcasts to `to`.
inline Shape broadcast_strides(const Shape& shape, const Shape& strides, const Shape& to) {
  Shape out(to.size(), 0);
  const std::size_t lead = to.size() - shape.size();
  for (std::size_t i = 0; i < shape.size(); ++i) {
    out[lead + i] = shape[i] == 1 ? 0 : strides[i];
  }
  return out;
}

}  // namespace detail
}  // namespace ember
