// A negative control for check_layers.cmake (never compiled): sim including LibTorch and train.
#pragma once
#include <torch/torch.h>
  #  include "gengap/train/trainer.hpp"
#include "gengap/simulation_like_name.hpp"
