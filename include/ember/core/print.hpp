// ember: operator<< in PyTorch's layout: the values formatted exactly as torch's repr does
// (shared width, fixed/integer/scientific mode, 80-column wrapping, summarised with "..." beyond
// 1000 elements showing 3 edge items), followed by the shape and dtype:
//   tensor([[1., 2.],
//           [3., 4.]], shape=[2, 2], dtype=float32)
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <ostream>
#include <sstream>
#include <string>
#include <vector>

#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"

namespace ember {

namespace detail {

struct PrintOptions {
  int precision = 4;
  int64_t threshold = 1000;
  int64_t edgeitems = 3;
  int64_t linewidth = 80;
};

// Visits the elements that will be shown (all, or the edge items of every dim when summarising).
template <class T, class F>
void for_each_shown(const Tensor<T>& t, bool summarize, const PrintOptions& o, F&& fn) {
  if (t.dim() == 0) return fn(static_cast<double>(t.item()));
  const int64_t n = t.size(0);
  for (int64_t i = 0; i < n; ++i) {
    if (summarize && n > 2 * o.edgeitems && i == o.edgeitems) i = n - o.edgeitems;
    for_each_shown(t.select(0, i), summarize, o, fn);
  }
}

class ValueFormatter {
 public:
  template <class T>
  ValueFormatter(const Tensor<T>& t, bool summarize, const PrintOptions& o)
      : floating_(std::is_floating_point_v<T>), precision_(o.precision) {
    if (!floating_) {
      for_each_shown(t, summarize, o,
                     [&](double v) { width_ = std::max(width_, format_int(v).size()); });
      return;
    }
    double lo = INFINITY, hi = 0;
    bool any = false;
    for_each_shown(t, summarize, o, [&](double v) {
      if (!std::isfinite(v) || v == 0) return;
      any = true;
      lo = std::min(lo, std::fabs(v));
      hi = std::max(hi, std::fabs(v));
      if (v != std::ceil(v)) int_mode_ = false;
    });
    if (!any) return;
    sci_ = hi / lo > 1000.0 || hi > 1.0e8 || (!int_mode_ && lo < 1.0e-4);
    for_each_shown(t, summarize, o, [&](double v) {
      if (!std::isfinite(v) || v == 0) return;
      const std::size_t w = sci_        ? printf_str("%.*e", v).size()
                            : int_mode_ ? printf_str("%.0f", v).size() + 1
                                        : printf_str("%.*f", v).size();
      width_ = std::max(width_, w);
    });
  }

  std::size_t width() const noexcept { return width_; }

  std::string format(double v) const {
    std::string s;
    if (!floating_) {
      s = format_int(v);
    } else if (std::isnan(v)) {
      s = "nan";
    } else if (std::isinf(v)) {
      s = v > 0 ? "inf" : "-inf";
    } else if (sci_) {
      s = printf_str("%.*e", v);
    } else if (int_mode_) {
      s = printf_str("%.0f", v) + ".";
    } else {
      s = printf_str("%.*f", v);
    }
    return s.size() < width_ ? std::string(width_ - s.size(), ' ') + s : s;
  }

 private:
  static std::string format_int(double v) { return std::to_string(static_cast<long long>(v)); }
  std::string printf_str(const char* fmt, double v) const {
    char buf[64];
    if (fmt[1] == '.' && fmt[2] == '*') {
      std::snprintf(buf, sizeof buf, fmt, precision_, v);
    } else {
      std::snprintf(buf, sizeof buf, fmt, v);
    }
    return buf;
  }

  bool floating_;
  int precision_;
  bool int_mode_ = true;
  bool sci_ = false;
  std::size_t width_ = 1;
};

template <class T>
std::string tensor_body(const Tensor<T>& t, int64_t indent, bool summarize, const ValueFormatter& f,
                        const PrintOptions& o) {
  if (t.dim() == 0) return f.format(static_cast<double>(t.item()));
  const int64_t n = t.size(0);
  const bool cut = summarize && n > 2 * o.edgeitems;
  std::vector<std::string> parts;
  for (int64_t i = 0; i < n; ++i) {
    if (cut && i == o.edgeitems) {
      parts.push_back(t.dim() == 1 ? " ..." : "...");
      i = n - o.edgeitems;
    }
    parts.push_back(t.dim() == 1 ? f.format(static_cast<double>(t.at({i})))
                                 : tensor_body(t.select(0, i), indent + 1, summarize, f, o));
  }
  std::string out = "[";
  if (t.dim() == 1) {
    const auto per_line =
        std::max<int64_t>(1, (o.linewidth - indent) / static_cast<int64_t>(f.width() + 2));
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) {
        out += static_cast<int64_t>(i) % per_line == 0
                   ? ",\n" + std::string(static_cast<std::size_t>(indent + 1), ' ')
                   : ", ";
      }
      out += parts[i];
    }
  } else {
    const std::string sep = "," + std::string(static_cast<std::size_t>(t.dim() - 1), '\n') +
                            std::string(static_cast<std::size_t>(indent + 1), ' ');
    for (std::size_t i = 0; i < parts.size(); ++i) {
      if (i > 0) out += sep;
      out += parts[i];
    }
  }
  return out + "]";
}

}  // namespace detail

template <class T>
std::ostream& operator<<(std::ostream& os, const Tensor<T>& t) {
  if (!t.defined()) return os << "tensor(undefined)";
  const detail::PrintOptions o;
  const bool summarize = t.numel() > o.threshold;
  os << "tensor(";
  if (t.numel() == 0) {
    os << "[]";
  } else {
    const detail::ValueFormatter f(t, summarize, o);
    os << detail::tensor_body(t, 7, summarize, f, o);
  }
  os << ", shape=";
  detail::write_part(os, t.shape());
  return os << ", dtype=" << t.dtype() << ')';
}

template <class T>
std::string to_string(const Tensor<T>& t) {
  std::ostringstream os;
  os << t;
  return os.str();
}

}  // namespace ember
