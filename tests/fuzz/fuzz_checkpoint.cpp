// Fuzzes checkpoint loading, as `gengap-train --resume` does it. Two modes (the first byte):
//  0: raw bytes. The container must refuse every damaged file before LibTorch sees it (LibTorch's
//     zip/pickle reader is not hardened: a crafted pickle length makes it allocate gigabytes).
//     Inputs that are intact containers are written by gengap itself and skipped here.
//  1: the state text of an intact checkpoint (a tiny model's archive built here): the state parser,
//     every field's type, the rows of metrics and distances, then the restore into F1.
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include "fuzz_common.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/models.hpp"
#include "gengap/train/norm.hpp"
#include "gengap/train/weight_distance.hpp"

namespace {
void restore_into_f1(gengap::train::Checkpoint& ck) {
  gengap::train::ModelOptions mo;
  mo.norm = gengap::train::norm_factory("bn", 128);
  torch::nn::Sequential model = gengap::train::make_model("f1", mo);
  torch::optim::SGD opt(model->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  gengap::train::WeightDistance dist(*model);
  std::map<std::string, torch::Tensor> w0 = dist.initial();
  ck.restore(*model, opt, w0, torch::kCPU);
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size < 1) return 0;
  const std::string rest = gengap::fuzz::text(data + 1, size - 1);
  if (data[0] % 2 == 0) {
    if (gengap::train::checkpoint_intact(rest)) return 0;
    try {
      gengap::train::Checkpoint ck(rest, "checkpoint.pt", torch::kCPU);
    } catch (const gengap::core::InputError&) {
      return 0;
    }
    __builtin_trap();  // a damaged container was accepted
  }
  static torch::nn::Sequential tiny(torch::nn::Linear(2, 2));
  static torch::optim::SGD tiny_opt(tiny->parameters(), torch::optim::SGDOptions(0.1));
  static std::map<std::string, torch::Tensor> tiny_w0 = [] {
    std::map<std::string, torch::Tensor> w;
    for (const auto& p : tiny->named_parameters()) w[p.key()] = p.value().detach().clone();
    return w;
  }();
  const std::string bytes = gengap::train::checkpoint_bytes_with_state(*tiny, tiny_opt, tiny_w0, rest);
  gengap::fuzz::expect_refused_or_ok([&] {
    gengap::train::Checkpoint ck(bytes, "checkpoint.pt", torch::kCPU);
    restore_into_f1(ck);  // a tiny model's archive: refused as not fitting F1, after the state passed
  });
  return 0;
}
