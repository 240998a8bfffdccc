// ember: the nn umbrella: modules, containers, layers, init, and the ember::F functions.
#pragma once

#include "ember/nn/container.hpp"
#include "ember/nn/init.hpp"
#include "ember/nn/linear.hpp"
#include "ember/nn/module.hpp"
#include "ember/nn/options.hpp"
