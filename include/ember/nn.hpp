// ember: the nn umbrella: modules, containers, layers, init, and the ember::F functions.
#pragma once

#include "ember/functional/activation.hpp"
#include "ember/functional/dropout.hpp"
#include "ember/functional/embedding.hpp"
#include "ember/functional/linear.hpp"
#include "ember/functional/normalization.hpp"
#include "ember/nn/activation.hpp"
#include "ember/nn/container.hpp"
#include "ember/nn/dropout.hpp"
#include "ember/nn/embedding.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/linear.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/normalization.hpp"
#include "ember/nn/options.hpp"
