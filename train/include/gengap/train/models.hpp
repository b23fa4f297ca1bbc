/// @file models.hpp
/// @brief The paper's models — F1, C1, C3 (Keskar et al.'s shallow nets), the CIFAR ResNet (depth a
/// parameter; ResNet44), VGG (CIFAR variant) and WResNet16-4 — each taking a normalization factory.
#pragma once

#include <string>
#include <vector>

#include <torch/nn/modules/container/sequential.h>

#include "gengap/train/norm.hpp"

namespace gengap::train {

/// What every model needs to know about its input and output.
struct ModelOptions {
  int64_t classes = 10;        ///< output logits
  int64_t in_channels = 1;     ///< 1 for MNIST-like, 3 for CIFAR
  int64_t image_size = 28;     ///< square images of image_size x image_size
  NormFactory norm = batch_norm_factory();  ///< the normalization after each hidden layer
};

/// F1 (MNIST): flatten -> 5 x [Linear 512, norm, ReLU] -> Linear(classes).
torch::nn::Sequential make_f1(const ModelOptions& o);
/// C1 / C3 (Keskar's shallow conv nets; C1 on CIFAR-10, C3 on CIFAR-100): two 5x5 conv(64) with
/// norm, ReLU and 3x3/2 max-pool, then FC 384 and 192 with norm, ReLU and dropout 0.5, then FC(classes).
torch::nn::Sequential make_c1(const ModelOptions& o);
/// CIFAR ResNet (He et al. 2016, 3 stages of 16/32/64 channels, n basic blocks each):
/// depth = 6n + 2, so ResNet44 is depth 44. Throws std::invalid_argument unless (depth - 2) % 6 == 0.
torch::nn::Sequential make_resnet(const ModelOptions& o, int depth = 44);
/// VGG-16 for CIFAR: 13 3x3 conv layers with norm and ReLU, 5 max-pools, one Linear(512, classes).
torch::nn::Sequential make_vgg(const ModelOptions& o);
/// Wide ResNet (Zagoruyko & Komodakis): depth 16, widen factor 4 by default; pre-activation blocks.
/// Throws std::invalid_argument unless (depth - 4) % 6 == 0.
torch::nn::Sequential make_wresnet(const ModelOptions& o, int depth = 16, int widen = 4);

/// Names accepted by make_model(): "f1", "c1", "c3", "resnet44" (any "resnetN"), "vgg", "wresnet16-4".
std::vector<std::string> model_names();
/// Throws core::InvalidArgument (`model = NAME: ...`) unless make_model() accepts `name`; builds nothing.
void check_model_name(const std::string& name);
/// A model by name. Throws std::invalid_argument for an unknown name.
torch::nn::Sequential make_model(const std::string& name, const ModelOptions& o);

}  // namespace gengap::train
