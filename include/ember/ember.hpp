// ember: the umbrella header.
#pragma once

#include "ember/autograd/function.hpp"
#include "ember/autograd/gradcheck.hpp"
#include "ember/config.hpp"
#include "ember/core/tensor.hpp"
#include "ember/error.hpp"
#include "ember/io/gzip.hpp"
#include "ember/io/idx.hpp"
#include "ember/io/safetensors.hpp"
#include "ember/kernels/dispatch.hpp"
#include "ember/kernels/parallel.hpp"
#include "ember/nn.hpp"
#include "ember/optim.hpp"
