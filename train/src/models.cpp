// The paper's models, each built from a normalization factory.
#include "gengap/train/models.hpp"

#include <stdexcept>

#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/dropout.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/options/conv.h>

#include "gengap/core/error.hpp"

namespace gengap::train {
namespace nn = torch::nn;

namespace {

nn::Conv2d conv(int64_t in, int64_t out, int64_t k, int64_t stride = 1, bool bias = false) {
  return nn::Conv2d(nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(bias));
}

/// CIFAR ResNet basic block: conv3x3-norm-ReLU-conv3x3-norm plus a shortcut (1x1 conv + norm when
/// the shape changes), then ReLU.
class BasicBlockImpl : public nn::Module {
 public:
  BasicBlockImpl(int64_t in, int64_t out, int64_t stride, const NormFactory& norm)
      : conv1(register_module("conv1", conv(in, out, 3, stride))),
        conv2(register_module("conv2", conv(out, out, 3))),
        bn1(norm(out, 2)),
        bn2(norm(out, 2)) {
    register_module("bn1", bn1.ptr());
    register_module("bn2", bn2.ptr());
    if (stride != 1 || in != out) {
      shortcut = register_module("shortcut", nn::Sequential(conv(in, out, 1, stride)));
      shortcut->push_back(norm(out, 2));
    }
  }
  torch::Tensor forward(const torch::Tensor& x) {
    torch::Tensor y = torch::relu(bn1.forward<torch::Tensor>(conv1->forward(x)));
    y = bn2.forward<torch::Tensor>(conv2->forward(y));
    return torch::relu(y + (shortcut ? shortcut->forward(x) : x));
  }

 private:
  nn::Conv2d conv1, conv2;
  nn::AnyModule bn1, bn2;
  nn::Sequential shortcut{nullptr};
};
TORCH_MODULE(BasicBlock);

/// Wide ResNet pre-activation block: norm-ReLU-conv3x3-norm-ReLU-conv3x3, shortcut 1x1 conv when
/// the shape changes.
class WideBlockImpl : public nn::Module {
 public:
  WideBlockImpl(int64_t in, int64_t out, int64_t stride, const NormFactory& norm)
      : bn1(norm(in, 2)),
        bn2(norm(out, 2)),
        conv1(register_module("conv1", conv(in, out, 3, stride))),
        conv2(register_module("conv2", conv(out, out, 3))) {
    register_module("bn1", bn1.ptr());
    register_module("bn2", bn2.ptr());
    if (stride != 1 || in != out) shortcut = register_module("shortcut", conv(in, out, 1, stride));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const torch::Tensor a = torch::relu(bn1.forward<torch::Tensor>(x));
    torch::Tensor y = conv1->forward(a);
    y = conv2->forward(torch::relu(bn2.forward<torch::Tensor>(y)));
    return y + (shortcut ? shortcut->forward(a) : x);
  }

 private:
  nn::AnyModule bn1, bn2;
  nn::Conv2d conv1, conv2;
  nn::Conv2d shortcut{nullptr};
};
TORCH_MODULE(WideBlock);

void check(const ModelOptions& o) {
  if (o.classes < 2) throw core::InputError("classes = " + std::to_string(o.classes) + ": must be >= 2");
  if (o.in_channels < 1) throw core::InputError("in_channels = " + std::to_string(o.in_channels) + ": must be >= 1");
  if (o.image_size < 8) throw core::InputError("image_size = " + std::to_string(o.image_size) + ": must be >= 8");
  if (!o.norm) throw core::InputError("norm: a normalization factory is required (e.g. batch_norm_factory())");
}

}  // namespace

nn::Sequential make_f1(const ModelOptions& o) {
  check(o);
  nn::Sequential m;
  m->push_back(nn::Flatten());
  int64_t in = o.in_channels * o.image_size * o.image_size;
  for (int i = 0; i < 5; ++i) {
    m->push_back(nn::Linear(in, 512));
    m->push_back(o.norm(512, 1));
    m->push_back(nn::ReLU());
    in = 512;
  }
  m->push_back(nn::Linear(512, o.classes));
  return m;
}

nn::Sequential make_c1(const ModelOptions& o) {
  check(o);
  nn::Sequential m;
  int64_t size = o.image_size;
  int64_t in = o.in_channels;
  for (int i = 0; i < 2; ++i) {
    m->push_back(conv(in, 64, 5, 1, /*bias=*/false));
    m->push_back(o.norm(64, 2));
    m->push_back(nn::ReLU());
    m->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(3).stride(2).padding(1)));
    size = (size + 1) / 2;
    in = 64;
  }
  m->push_back(nn::Flatten());
  m->push_back(nn::Linear(64 * size * size, 384));
  m->push_back(o.norm(384, 1));
  m->push_back(nn::ReLU());
  m->push_back(nn::Dropout(0.5));
  m->push_back(nn::Linear(384, 192));
  m->push_back(o.norm(192, 1));
  m->push_back(nn::ReLU());
  m->push_back(nn::Dropout(0.5));
  m->push_back(nn::Linear(192, o.classes));
  return m;
}

nn::Sequential make_resnet(const ModelOptions& o, int depth) {
  check(o);
  if (depth < 8 || (depth - 2) % 6 != 0)
    throw core::InputError("resnet depth = " + std::to_string(depth) + ": must be 6n + 2 (20, 32, 44, 56, 110, ...)");
  const int n = (depth - 2) / 6;
  nn::Sequential m;
  m->push_back(conv(o.in_channels, 16, 3));
  m->push_back(o.norm(16, 2));
  m->push_back(nn::ReLU());
  int64_t in = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t out = 16 << stage;
    for (int b = 0; b < n; ++b) {
      m->push_back(BasicBlock(in, out, (stage > 0 && b == 0) ? 2 : 1, o.norm));
      in = out;
    }
  }
  m->push_back(nn::AdaptiveAvgPool2d(1));
  m->push_back(nn::Flatten());
  m->push_back(nn::Linear(64, o.classes));
  return m;
}

nn::Sequential make_vgg(const ModelOptions& o) {
  check(o);
  const int cfg[] = {64, 64, 0, 128, 128, 0, 256, 256, 256, 0, 512, 512, 512, 0, 512, 512, 512, 0};
  nn::Sequential m;
  int64_t in = o.in_channels;
  for (int c : cfg) {
    if (c == 0) {
      m->push_back(nn::MaxPool2d(nn::MaxPool2dOptions(2).stride(2)));
      continue;
    }
    m->push_back(conv(in, c, 3));
    m->push_back(o.norm(c, 2));
    m->push_back(nn::ReLU());
    in = c;
  }
  m->push_back(nn::AdaptiveAvgPool2d(1));
  m->push_back(nn::Flatten());
  m->push_back(nn::Linear(512, o.classes));
  return m;
}

nn::Sequential make_wresnet(const ModelOptions& o, int depth, int widen) {
  check(o);
  if (depth < 10 || (depth - 4) % 6 != 0)
    throw core::InputError("wresnet depth = " + std::to_string(depth) + ": must be 6n + 4 (16, 22, 28, ...)");
  if (widen < 1) throw core::InputError("widen = " + std::to_string(widen) + ": must be >= 1");
  const int n = (depth - 4) / 6;
  nn::Sequential m;
  m->push_back(conv(o.in_channels, 16, 3));
  int64_t in = 16;
  for (int stage = 0; stage < 3; ++stage) {
    const int64_t out = (16 << stage) * widen;
    for (int b = 0; b < n; ++b) {
      m->push_back(WideBlock(in, out, (stage > 0 && b == 0) ? 2 : 1, o.norm));
      in = out;
    }
  }
  m->push_back(o.norm(in, 2));
  m->push_back(nn::ReLU());
  m->push_back(nn::AdaptiveAvgPool2d(1));
  m->push_back(nn::Flatten());
  m->push_back(nn::Linear(in, o.classes));
  return m;
}

std::vector<std::string> model_names() { return {"f1", "c1", "c3", "resnet44", "vgg", "wresnet16-4"}; }

namespace {
// The depth of "resnetN", or 0 when `name` is not of that form.
int resnet_depth(const std::string& name) {
  if (name.rfind("resnet", 0) != 0 || name.size() <= 6 || name.size() >= 10 ||
      name.find_first_not_of("0123456789", 6) != std::string::npos)
    return 0;
  return std::stoi(name.substr(6));
}
}  // namespace

void check_model_name(const std::string& name) {
  if (name == "f1" || name == "c1" || name == "c3" || name == "vgg" || name == "wresnet16-4") return;
  if (const int depth = resnet_depth(name)) {
    if (depth < 8 || (depth - 2) % 6 != 0)
      throw core::InputError("resnet depth = " + std::to_string(depth) + ": must be 6n + 2 (20, 32, 44, 56, 110, ...)");
    return;
  }
  std::string known;
  for (const auto& n : model_names()) known += (known.empty() ? "" : ", ") + n;
  throw core::InputError("model = " + name + ": expected one of " + known);
}

nn::Sequential make_model(const std::string& name, const ModelOptions& o) {
  check_model_name(name);
  if (name == "f1") return make_f1(o);
  if (name == "c1" || name == "c3") return make_c1(o);
  if (name == "vgg") return make_vgg(o);
  if (name == "wresnet16-4") return make_wresnet(o, 16, 4);
  return make_resnet(o, resnet_depth(name));
}

}  // namespace gengap::train
