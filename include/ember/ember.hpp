// ember: the umbrella header.
#pragma once

#include "ember/config.hpp"
#include "ember/error.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/core/tensor.hpp"
#include "ember/autograd/function.hpp"
#include "ember/autograd/gradcheck.hpp"
