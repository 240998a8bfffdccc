// ember: EMBER_ARG, the fluent option helper of the nn options structs (torch's TORCH_ARG):
//
//   struct LinearOptions {
//     LinearOptions(int64_t in, int64_t out) : in_features_(in), out_features_(out) {}
//     EMBER_ARG(int64_t, in_features);
//     EMBER_ARG(bool, bias) = true;
//   };
//   LinearOptions(784, 10).bias(false).bias();  // setter returns *this, getter reads
#pragma once

#include <utility>

#define EMBER_ARG(Type, name)         \
 public:                              \
  auto& name(const Type& new_value) { \
    this->name##_ = new_value;        \
    return *this;                     \
  }                                   \
  const Type& name() const noexcept { \
    return this->name##_;             \
  }                                   \
                                      \
 private:                             \
  Type name##_
