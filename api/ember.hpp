// The one header an Ember application includes.
#pragma once

#include "api/context.hpp"
#include "api/dataset.hpp"
