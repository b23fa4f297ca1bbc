// Writes the raw-mode seeds of fuzz_checkpoint (first byte 0): a real gengap checkpoint of a tiny model
// (a few KB; an F1 checkpoint is 6 MB, too large to mutate), truncated, and with one byte altered.
// Usage: make_checkpoint_seed DIR   (writes DIR/raw_truncated and DIR/raw_altered)
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/linear.h>
#include <torch/optim/sgd.h>

#include "gengap/core/io.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/trainer.hpp"

int main(int argc, char** argv) {
  if (argc != 2) return 2;
  torch::manual_seed(1);
  torch::nn::Sequential m(torch::nn::Linear(2, 2));
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  std::map<std::string, torch::Tensor> w0;
  for (const auto& p : m->named_parameters()) w0[p.key()] = p.value().detach().clone();
  gengap::train::CheckpointState st;
  st.iteration = 3;
  st.epoch = 1;
  st.probe0 = 2.3;
  st.metrics = nlohmann::json::array({{{"epoch", 1.0}, {"iteration", 3}, {"lr", 0.1}, {"train_loss", 1.0}, {"test_loss", 1.1},
                                       {"test_accuracy", 0.5}, {"distance", 0.2}, {"seconds", 1.0}}});
  st.distances = nlohmann::json::array({{{"iteration", 1}, {"epoch", 0.3}, {"loss", 2.0}, {"distance", 0.1}, {"probe_loss_delta", -0.1},
                                         {"probe_test_loss_delta", -0.05}, {"grad_norm", 1.5}, {"clipped", 0},
                                         {"layers", {{"0", 0.1}}}, {"weights", {{"0.weight", 0.1}}}}});
  st.noise = nlohmann::json::array({{{"iteration", 1}, {"epoch", 0.3}, {"trace", 4.0}, {"grad_sq", 1.0}, {"group_size", 1},
                                     {"groups", 2}}});
  st.config = gengap::train::TrainConfig{};
  const std::string good = gengap::train::checkpoint_bytes(*m, opt, w0, st);
  const std::string dir = argv[1];
  gengap::core::write_file_atomic(dir + "/raw_truncated", std::string(1, '\0') + good.substr(0, good.size() - 7));
  std::string altered = good;
  altered[altered.size() / 2] = static_cast<char>(altered[altered.size() / 2] ^ 0x01);
  gengap::core::write_file_atomic(dir + "/raw_altered", std::string(1, '\0') + altered);
  return 0;
}
