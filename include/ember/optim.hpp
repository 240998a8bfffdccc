// ember::optim: optimizers, learning-rate schedulers and gradient clipping.
#pragma once

#include "ember/optim/adagrad.hpp"
#include "ember/optim/adam.hpp"
#include "ember/optim/adamax.hpp"
#include "ember/optim/clip_grad.hpp"
#include "ember/optim/lion.hpp"
#include "ember/optim/lr_scheduler.hpp"
#include "ember/optim/nadam.hpp"
#include "ember/optim/optimizer.hpp"
#include "ember/optim/rmsprop.hpp"
#include "ember/optim/sgd.hpp"
