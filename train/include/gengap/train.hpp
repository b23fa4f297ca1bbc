/// @file train.hpp
/// @brief Umbrella header of gengap::train: the paper's models, Ghost Batch Normalization, regimes
/// and lr scaling, data, the trainer with ||w_t - w_0|| recorded, data parallelism and the landscape
/// probes. Includes LibTorch (about 30 s to compile); include the single headers where that matters.
#pragma once

#include "gengap/train/checkpoint.hpp"
#include "gengap/train/data.hpp"
#include "gengap/train/distributed.hpp"
#include "gengap/train/ghost_batch_norm.hpp"
#include "gengap/train/landscape.hpp"
#include "gengap/train/models.hpp"
#include "gengap/train/noise_scale.hpp"
#include "gengap/train/norm.hpp"
#include "gengap/train/regime.hpp"
#include "gengap/train/run_log.hpp"
#include "gengap/train/trainer.hpp"
#include "gengap/train/weight_distance.hpp"
