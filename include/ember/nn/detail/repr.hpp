// ember: Python-style formatting of option values for the module reprs (PyTorch prints
// bias=True, eps=1e-05, momentum=0.1, (2, 5)).
#pragma once

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace ember::nn::detail {

inline const char* py_bool(bool b) { return b ? "True" : "False"; }

// Python's repr of a float: the shortest text that reads back to the same double, with ".0"
// added to whole numbers (1.0, 0.01, 1e-05).
inline std::string py_float(double v) {
  char buf[32];
  for (int prec = 1; prec <= 17; ++prec) {
    std::snprintf(buf, sizeof buf, "%.*g", prec, v);
    if (std::strtod(buf, nullptr) == v) break;
  }
  std::string s = buf;
  if (s.find_first_of(".eni") == std::string::npos) s += ".0";
  return s;
}

// A number that Python would hold as an int when it has no fraction (Softplus's beta=1).
inline std::string py_number(double v) {
  if (std::floor(v) == v && std::abs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  return py_float(v);
}

// A tuple: (2, 5) or (3,).
inline std::string py_tuple(const std::vector<int64_t>& v) {
  std::string s = "(";
  for (std::size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + std::to_string(v[i]);
  return s + (v.size() == 1 ? ",)" : ")");
}

}  // namespace ember::nn::detail
