// ember: the one place that includes xsimd.
#pragma once

#include <xsimd/xsimd.hpp>
