// ember: Tensor<T> with its whole API: include this (or ember/ember.hpp) to use tensors.
// xtensor interop is separate: ember/core/xtensor_interop.hpp.
#pragma once

#include "ember/autograd/tensor_autograd.hpp"
#include "ember/core/compare.hpp"
#include "ember/core/creation.hpp"
#include "ember/core/elementwise.hpp"
#include "ember/core/indexing.hpp"
#include "ember/core/linalg.hpp"
#include "ember/core/print.hpp"
#include "ember/core/random.hpp"
#include "ember/core/reduction.hpp"
#include "ember/core/tensor_base.hpp"
#include "ember/core/views.hpp"
