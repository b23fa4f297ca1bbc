// gengap::train beyond GBN: models, data parsers on files written here (and broken copies of them),
// regime arithmetic, the distance tracker, the gamma estimator, and end-to-end runs.
#include <zlib.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <tuple>

#include <nlohmann/json.hpp>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/linear.h>
#include <torch/cuda.h>
#include <torch/optim/sgd.h>
#include <torch/serialize.h>

#include "gengap/core/blas.hpp"
#include "gengap/core/io.hpp"
#include "gengap/train/checkpoint.hpp"
#include "gengap/train/data.hpp"
#include "gengap/train/ghost_batch_norm.hpp"
#include "gengap/train/models.hpp"
#include "gengap/train/regime.hpp"
#include "gengap/train/run_log.hpp"
#include "gengap/train/trainer.hpp"
#include "gengap/train/weight_distance.hpp"
#include "test_support.hpp"

using namespace gengap::train;
namespace fs = std::filesystem;

namespace {
fs::path tmp(const std::string& name) {
  const fs::path d = fs::path(GENGAP_TEST_TMP) / "train";
  fs::create_directories(d);
  return d / name;
}

void put_be32(std::vector<unsigned char>& b, uint32_t v) {
  for (int s = 24; s >= 0; s -= 8) b.push_back(static_cast<unsigned char>(v >> s));
}

void write_bytes(const fs::path& p, const std::vector<unsigned char>& b, bool gz) {
  if (gz) {
    gzFile f = gzopen(p.string().c_str(), "wb");
    gzwrite(f, b.data(), static_cast<unsigned>(b.size()));
    gzclose(f);
  } else {
    std::ofstream(p, std::ios::binary).write(reinterpret_cast<const char*>(b.data()), static_cast<std::streamsize>(b.size()));
  }
}

// A small IDX pair: n images of r x c with pixel (i, y, x) = (i * 7 + y * 3 + x) % 256, label i % 10.
std::pair<std::vector<unsigned char>, std::vector<unsigned char>> idx_pair(uint32_t n, uint32_t r, uint32_t c) {
  std::vector<unsigned char> img, lab;
  put_be32(img, 0x00000803);
  put_be32(img, n);
  put_be32(img, r);
  put_be32(img, c);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t y = 0; y < r; ++y)
      for (uint32_t x = 0; x < c; ++x) img.push_back(static_cast<unsigned char>((i * 7 + y * 3 + x) % 256));
  put_be32(lab, 0x00000801);
  put_be32(lab, n);
  for (uint32_t i = 0; i < n; ++i) lab.push_back(static_cast<unsigned char>(i % 10));
  return {img, lab};
}

TrainConfig tiny(const std::string& out) {
  TrainConfig c;
  c.dataset = "synthetic";
  c.synthetic_size = 512;
  c.batch_size = 64;
  c.epochs = 2;
  c.out_dir = tmp(out).string();
  c.progress = false;
  c.probe_size = 64;
  c.device = "cpu";  // bitwise comparisons: CUDA kernels (atomics in cuDNN) need not be deterministic
  return c;
}

std::vector<torch::Tensor> load_weights(const std::string& dir, const std::string& model, const std::string& norm, int64_t ghost) {
  ModelOptions o;
  o.norm = norm_factory(norm, ghost);
  auto m = make_model(model, o);
  const std::string path = (fs::path(dir) / "checkpoint.pt").string();
  Checkpoint(gengap::core::read_file(path, "checkpoint"), path, torch::kCPU).load_model(*m);
  std::vector<torch::Tensor> out;
  for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
  for (const auto& b : m->buffers()) out.push_back(b.clone());
  return out;
}
}  // namespace

// ---------------------------------------------------------------------------------------------- models

TEST_CASE("every model maps its input to class logits, with BN and with GBN", "[models]") {
  torch::manual_seed(1);
  struct Case {
    std::string name;
    int64_t ch, size;
  };
  for (const Case& c : {Case{"f1", 1, 28}, Case{"c1", 3, 32}, Case{"resnet20", 3, 32}, Case{"vgg", 3, 32}, Case{"wresnet16-4", 3, 32}}) {
    for (const std::string norm : {"bn", "gbn"}) {
      ModelOptions o;
      o.classes = 10;
      o.in_channels = c.ch;
      o.image_size = c.size;
      o.norm = norm_factory(norm, 2);
      auto m = make_model(c.name, o);
      const torch::Tensor y = m->forward(torch::randn({4, c.ch, c.size, c.size}));
      INFO(c.name << " / " << norm);
      CHECK(y.sizes() == torch::IntArrayRef({4, 10}));
      // The factory decides the normalization layers, nothing else.
      int n_gbn = 0, n_bn = 0;
      for (const auto& mod : m->modules(false)) {
        n_gbn += (std::dynamic_pointer_cast<GhostBatchNorm1dImpl>(mod) || std::dynamic_pointer_cast<GhostBatchNorm2dImpl>(mod)) ? 1 : 0;
        n_bn += (std::dynamic_pointer_cast<torch::nn::BatchNorm1dImpl>(mod) || std::dynamic_pointer_cast<torch::nn::BatchNorm2dImpl>(mod)) ? 1 : 0;
      }
      CHECK((norm == "gbn" ? n_gbn : n_bn) > 0);
      CHECK((norm == "gbn" ? n_bn : n_gbn) == 0);
    }
  }
}

TEST_CASE("ResNet44 and F1 have the textbook parameter counts", "[models]") {
  ModelOptions o;
  auto f1 = make_f1(o);
  int64_t n = 0;
  for (const auto& p : f1->parameters()) n += p.numel();
  // 784*512 + 4*512*512 + 512*10 weights, 5*512 + 10 biases, 5 x 2 x 512 BN affine.
  CHECK(n == 784 * 512 + 4 * 512 * 512 + 512 * 10 + 5 * 512 + 10 + 5 * 2 * 512);
  o.in_channels = 3;
  o.image_size = 32;
  auto r = make_model("resnet44", o);
  n = 0;
  for (const auto& p : r->parameters()) n += p.numel();
  // He et al.: 0.66M for ResNet-44 (option A); the 1x1 projection shortcuts used here add 0.01M.
  CHECK(n > 650000);
  CHECK(n < 690000);
  CHECK_THROWS_WITH(make_model("resnet45", o), Catch::Contains("6n + 2"));
  CHECK_THROWS_WITH(make_model("lenet", o), Catch::Contains("model = lenet"));
}

// ---------------------------------------------------------------------------------------------- data

TEST_CASE("IDX files load, gzip or raw, and match what was written", "[data]") {
  const auto [img, lab] = idx_pair(12, 5, 4);
  for (bool gz : {false, true}) {
    const std::string sfx = gz ? ".gz" : "";
    write_bytes(tmp("img" + sfx), img, gz);
    write_bytes(tmp("lab" + sfx), lab, gz);
    const Dataset d = load_idx(tmp("img" + sfx).string(), tmp("lab" + sfx).string());
    REQUIRE(d.images.sizes() == torch::IntArrayRef({12, 1, 5, 4}));
    CHECK(d.images[3][0][2][1].item<float>() == Approx(((3 * 7 + 2 * 3 + 1) % 256) / 255.0));
    CHECK(d.labels[11].item<int64_t>() == 1);
    CHECK(d.classes == 10);
  }
}

TEST_CASE("broken IDX files give one-line errors naming the file", "[data][errors]") {
  const auto [img, lab] = idx_pair(12, 5, 4);
  auto expect = [](const std::string& i, const std::string& l, const std::string& needle, const std::string& file) {
    try {
      load_idx(i, l);
      FAIL("no error for " << needle);
    } catch (const DataError& e) {
      const std::string m = e.what();
      INFO(m);
      CHECK(m.find(needle) != std::string::npos);
      CHECK(m.rfind(file, 0) == 0);
      CHECK(m.find('\n') == std::string::npos);
    }
  };
  write_bytes(tmp("ok_img"), img, false);
  write_bytes(tmp("ok_lab"), lab, false);
  write_bytes(tmp("trunc_img"), std::vector<unsigned char>(img.begin(), img.begin() + 100), false);
  expect(tmp("trunc_img").string(), tmp("ok_lab").string(), "truncated", tmp("trunc_img").string());
  write_bytes(tmp("trunc_img.gz"), std::vector<unsigned char>(img.begin(), img.end() - 1), true);
  expect(tmp("trunc_img.gz").string(), tmp("ok_lab").string(), "truncated", tmp("trunc_img.gz").string());
  auto bad_magic = img;
  bad_magic[3] = 0x01;
  write_bytes(tmp("magic_img"), bad_magic, false);
  expect(tmp("magic_img").string(), tmp("ok_lab").string(), "wrong magic", tmp("magic_img").string());
  const auto other = idx_pair(11, 5, 4).second;
  write_bytes(tmp("short_lab"), other, false);
  expect(tmp("ok_img").string(), tmp("short_lab").string(), "do not match", tmp("short_lab").string());
  expect(tmp("missing").string(), tmp("ok_lab").string(), "no such file", tmp("missing").string());
  // A corrupted gzip stream.
  write_bytes(tmp("corrupt.gz"), img, true);
  {
    std::fstream f(tmp("corrupt.gz"), std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(30);
    const char junk[16] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16};
    f.write(junk, 16);
  }
  CHECK_THROWS_AS(load_idx(tmp("corrupt.gz").string(), tmp("ok_lab").string()), DataError);
}

TEST_CASE("CIFAR-10 and CIFAR-100 binary batches load, and a folder without them says where to put what", "[data]") {
  const fs::path d10 = tmp("cifar10"), d100 = tmp("cifar100");
  fs::create_directories(d10 / "cifar-10-batches-bin");
  fs::create_directories(d100);
  auto records = [](int n, int label_bytes) {
    std::vector<unsigned char> b;
    for (int i = 0; i < n; ++i) {
      if (label_bytes == 2) b.push_back(static_cast<unsigned char>(i % 20));
      b.push_back(static_cast<unsigned char>(label_bytes == 2 ? (i * 3) % 100 : i % 10));
      for (int p = 0; p < 3072; ++p) b.push_back(static_cast<unsigned char>((p + i) % 256));
    }
    return b;
  };
  for (int k = 1; k <= 5; ++k) write_bytes(d10 / "cifar-10-batches-bin" / ("data_batch_" + std::to_string(k) + ".bin"), records(3, 1), false);
  write_bytes(d10 / "cifar-10-batches-bin" / "test_batch.bin", records(4, 1), false);
  const Dataset tr = load_cifar10(d10.string(), true), te = load_cifar10(d10.string(), false);
  CHECK(tr.size() == 15);
  CHECK(te.size() == 4);
  CHECK(tr.images.sizes() == torch::IntArrayRef({15, 3, 32, 32}));
  CHECK(te.images[2][1][0][5].item<float>() == Approx(((1024 + 5 + 2) % 256) / 255.0));
  write_bytes(d100 / "train.bin", records(6, 2), false);
  write_bytes(d100 / "test.bin", records(2, 2), false);
  const Dataset c100 = load_cifar100(d100.string(), true);
  CHECK(c100.labels[5].item<int64_t>() == 15);  // the fine label
  CHECK(c100.classes == 100);
  auto trunc = records(2, 1);
  trunc.pop_back();
  fs::create_directories(tmp("cifar_trunc"));
  write_bytes(tmp("cifar_trunc") / "test_batch.bin", trunc, false);
  CHECK_THROWS_WITH(load_cifar10(tmp("cifar_trunc").string(), false), Catch::Contains("test_batch.bin: truncated"));
  CHECK_THROWS_WITH(load_cifar10(tmp("nowhere").string(), true), Catch::Contains("data_batch_1.bin") && Catch::Contains("test_batch.bin"));
  CHECK_THROWS_WITH(load_cifar100(tmp("nowhere").string(), true), Catch::Contains("train.bin"));
}

TEST_CASE("Fashion-MNIST from the Debian package loads", "[data]") {
  if (!fs::exists(kFashionMnistDir)) {
    WARN("dataset-fashion-mnist is not installed: skipped");
    return;
  }
  const Dataset d = load_mnist_dir(kFashionMnistDir, false);
  CHECK(d.size() == 10000);
  CHECK(d.classes == 10);
  CHECK(d.images.sizes() == torch::IntArrayRef({10000, 1, 28, 28}));
}

TEST_CASE("synthetic sets, normalization and seeded augmentation", "[data]") {
  const Dataset a = make_synthetic(64, 3, 8, 4, 5, 6), b = make_synthetic(64, 3, 8, 4, 5, 6), c = make_synthetic(64, 3, 8, 4, 5, 7);
  CHECK(torch::equal(a.images, b.images));
  CHECK_FALSE(torch::equal(a.images, c.images));
  Dataset n = a;
  n.images = a.images.clone();
  const auto [m, s] = channel_stats(n);
  normalize(n, m, s);
  const auto [m2, s2] = channel_stats(n);
  CHECK(torch::allclose(m2, torch::zeros(3), 1e-5, 1e-5));
  CHECK(torch::allclose(s2, torch::ones(3), 1e-5, 1e-5));
  const torch::Tensor x = torch::arange(2 * 3 * 8 * 8, torch::kFloat).view({2, 3, 8, 8});
  const torch::Tensor y1 = augment_crop_flip(x, 4, 9), y2 = augment_crop_flip(x, 4, 9);
  CHECK(torch::equal(y1, y2));
  CHECK(y1.sizes() == x.sizes());
  // Every output pixel is an input pixel of the same image and channel, or padding.
  for (int i = 0; i < 2; ++i)
    for (int ch = 0; ch < 3; ++ch) {
      const auto vals = y1[i][ch].flatten();
      for (int64_t k = 0; k < vals.numel(); ++k) {
        const float v = vals[k].item<float>();
        const double lo = static_cast<double>((i * 3 + ch) * 64), hi = static_cast<double>((i * 3 + ch + 1) * 64);
        CHECK((v == 0 || (v >= lo && v < hi)));
      }
    }
}

// ---------------------------------------------------------------------------------------------- regimes

TEST_CASE("lr scaling and regime adaptation arithmetic", "[regime]") {
  CHECK(scaled_lr(0.1, 4096, 128, LrScaling::kSqrt) == Approx(0.1 * std::sqrt(32.0)));
  CHECK(scaled_lr(0.1, 4096, 128, LrScaling::kNone) == 0.1);
  CHECK(scaled_lr(0.1, 4096, 128, LrScaling::kLinearWarmup, 10) == Approx(3.2));
  CHECK(scaled_lr(0.1, 4096, 128, LrScaling::kLinearWarmup, 0) == Approx(0.1));
  CHECK(scaled_lr(0.1, 4096, 128, LrScaling::kLinearWarmup, 2.5, 5) == Approx(0.1 * (1 + 31 * 0.5)));
  const Regime f1 = authors_regime("f1");
  CHECK(f1.at(0).lr == 0.1);
  CHECK(f1.at(10).lr == 0.01);
  CHECK(f1.at(29.9).lr == 0.001);
  CHECK(f1.at(35).weight_decay == 1e-4);
  const Regime ad = adapt_regime(f1, 4096, 128);
  CHECK(ad.length == 40 * 32);
  // Drops land on the same iterations: epoch e at B_s = 128 is iteration e * N / 128; the adapted
  // epoch 32 e at B = 4096 is iteration 32 e * N / 4096, the same number.
  const double n_samples = 60000 - 60000 % 4096;
  for (std::size_t i = 0; i < f1.phases.size(); ++i) {
    CHECK(f1.phases[i].start * n_samples / 128 == Approx(ad.phases[i].start * n_samples / 4096));
  }
  CHECK(adapt_regime(f1, 300, 128).phases[1].start == 30);  // ceil(300/128) = 3
  Regime it = f1;
  it.unit = RegimeUnit::kIteration;
  CHECK(adapt_regime(it, 4096, 128).phases[1].start == 10);
  CHECK(authors_regime("c1").phases[0].momentum == 0);
  CHECK_THROWS_WITH(parse_lr_scaling("cubic"), Catch::Contains("lr_scaling = cubic"));
}

// ---------------------------------------------------------------------------------------------- distance

TEST_CASE("the distance tracker equals a direct computation", "[distance]") {
  torch::manual_seed(3);
  torch::nn::Sequential m(torch::nn::Linear(4, 3), torch::nn::BatchNorm1d(3), torch::nn::Linear(3, 2));
  WeightDistance d(*m);
  std::vector<torch::Tensor> w0;
  for (const auto& p : m->parameters()) w0.push_back(p.detach().clone());
  {
    torch::NoGradGuard ng;
    for (auto& p : m->parameters()) p.add_(torch::randn_like(p) * 0.1);
  }
  double sq = 0, layer0 = 0;
  std::size_t i = 0;
  for (const auto& p : m->named_parameters()) {
    const double s = (p.value() - w0[i++]).pow(2).sum().item<double>();
    sq += s;
    if (p.key().rfind("0.", 0) == 0) layer0 += s;
  }
  CHECK(d.total(*m) == Approx(std::sqrt(sq)).epsilon(1e-6));
  const auto per = d.per_layer(*m);
  CHECK(per.size() == 3);
  CHECK(per.at("0") == Approx(std::sqrt(layer0)).epsilon(1e-6));
}

TEST_CASE("distances are recorded every iteration to 100, then log-spaced", "[distance]") {
  for (int t = 1; t <= 100; ++t) REQUIRE(distance_due(t));
  int n = 0;
  for (int t = 101; t <= 1000; ++t) n += distance_due(t) ? 1 : 0;
  CHECK(n == 20);  // 20 per decade
  CHECK(distance_due(1000));
  CHECK_FALSE(distance_due(999));
}

TEST_CASE("gamma estimator recovers the exponent of std(dL) ~ d^gamma", "[distance]") {
  std::mt19937_64 rng(5);
  std::normal_distribution<double> z;
  for (double gamma : {0.5, 1.0, 2.0}) {
    std::vector<std::vector<double>> d(400), dl(400);
    for (int r = 0; r < 400; ++r)
      for (int i = 0; i < 20; ++i) {
        const double dist = std::pow(1.3, i) * (1 + 0.01 * z(rng));
        d[static_cast<std::size_t>(r)].push_back(dist);
        dl[static_cast<std::size_t>(r)].push_back(0.3 * std::pow(dist, gamma) * z(rng));
      }
    CHECK(estimate_gamma(d, dl) == Approx(gamma).margin(0.08));
  }
}

// ---------------------------------------------------------------------------------------------- runs

TEST_CASE("a tiny run on synthetic data learns and writes its files", "[trainer]") {
  TrainConfig c = tiny("learn");
  fs::remove_all(c.out_dir);
  const TrainSummary s = train(c);
  CHECK(s.iterations == 2 * (512 / 64));
  CHECK(s.test_accuracy > 0.5);  // 10 classes: chance is 0.1
  for (const char* f : {"config.json", "metrics.jsonl", "metrics.csv", "distance.csv", "distance_layers.jsonl", "checkpoint.pt", "summary.json"})
    CHECK(fs::exists(fs::path(c.out_dir) / f));
  // The BLAS kernels the CPU products ran on are recorded (the Debian LibTorch runs on OpenBLAS).
  std::ifstream sj(fs::path(c.out_dir) / "summary.json");
  const auto summary = nlohmann::json::parse(sj);
  CHECK(summary.at("blas").get<std::string>() == s.blas);
  CHECK(s.blas == gengap::core::blas_kernel_name());
  std::ifstream in(fs::path(c.out_dir) / "distance.csv");
  std::string line;
  int rows = -1;
  while (std::getline(in, line)) ++rows;
  CHECK(rows == 16);  // every iteration up to 100
}

TEST_CASE("a run saves the snapshots asked for, the noise scale and the accuracy on the training set", "[trainer]") {
  TrainConfig c = tiny("snapshots");
  c.snapshot_iterations = {0, 3, 16};
  fs::remove_all(c.out_dir);
  const TrainSummary s = train(c);
  REQUIRE(s.iterations == 16);
  const auto [tr, te] = training_data(c);
  auto weights_at = [&](long long t) {
    torch::nn::Sequential m = run_model(c, tr, te, torch::kCPU);
    const fs::path f = fs::path(c.out_dir) / run_log::kSnapshotDir / run_log::snapshot_file(t);
    load_snapshot(*m, gengap::core::read_file(f.string(), "snapshot"), f.string(), torch::kCPU);
    std::vector<torch::Tensor> out;
    for (const auto& p : m->parameters()) out.push_back(p.detach().clone());
    for (const auto& b : m->buffers()) out.push_back(b.clone());
    return out;
  };
  // The last snapshot is the final state; the first is the model as built from the seed.
  const auto last = weights_at(16), final_state = load_weights(c.out_dir, "f1", "bn", 128);
  REQUIRE(last.size() == final_state.size());
  for (std::size_t i = 0; i < last.size(); ++i) CHECK(torch::equal(last[i], final_state[i]));
  const auto first = weights_at(0);
  torch::nn::Sequential fresh = run_model(c, tr, te, torch::kCPU);
  for (std::size_t i = 0; i < fresh->parameters().size(); ++i) CHECK(torch::equal(first[i], fresh->parameters()[i]));
  CHECK_FALSE(torch::equal(weights_at(3)[0], first[0]));
  CHECK_FALSE(fs::exists(fs::path(c.out_dir) / run_log::kSnapshotDir / run_log::snapshot_file(4)));
  // noise.csv: a row at every due update, finite trace >= 0.
  const auto noise = gengap::core::read_csv((fs::path(c.out_dir) / run_log::kNoiseFile).string());
  int due = 0;
  for (long long t = 1; t <= 16; ++t) due += run_log::noise_due(t) ? 1 : 0;
  REQUIRE(noise.cols.front().size() == static_cast<std::size_t>(due));
  for (double v : noise.cols[2]) CHECK(v >= 0);
  // metrics.jsonl carries the epoch's noise scale; the summary the training-set accuracy.
  std::ifstream mj(fs::path(c.out_dir) / run_log::kMetricsJsonFile);
  for (std::string line; std::getline(mj, line);) CHECK(nlohmann::json::parse(line).contains(run_log::kNoiseScale));
  CHECK(s.train_accuracy > 0.5);
  CHECK(s.train_accuracy <= 1.0);
  CHECK(s.train_loss > 0);
  // Bad snapshot iterations are refused.
  TrainConfig bad = c;
  bad.snapshot_iterations = {-1};
  CHECK_THROWS_AS(bad.validate(), gengap::core::InvalidArgument);
}

TEST_CASE("resuming from a checkpoint continues exactly like an uninterrupted run", "[trainer]") {
  TrainConfig full = tiny("full");
  full.model = "c1";  // dropout: the RNG state must be restored too
  full.dataset = "synthetic";
  full.norm = "gbn";
  full.ghost_batch_size = 16;
  full.epochs = 3;
  fs::remove_all(full.out_dir);
  train(full);
  TrainConfig part = full;
  part.out_dir = tmp("part").string();
  part.epochs = 1;
  fs::remove_all(part.out_dir);
  train(part);
  part.epochs = 3;
  part.resume = true;
  train(part);
  const auto a = load_weights(full.out_dir, "c1", "gbn", 16), b = load_weights(part.out_dir, "c1", "gbn", 16);
  REQUIRE(a.size() == b.size());
  REQUIRE(!a.empty());
  for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
  std::ifstream fa(fs::path(full.out_dir) / "distance.csv"), fb(fs::path(part.out_dir) / "distance.csv");
  const std::string sa((std::istreambuf_iterator<char>(fa)), {}), sb((std::istreambuf_iterator<char>(fb)), {});
  CHECK(sa == sb);
  std::ifstream na(fs::path(full.out_dir) / "noise.csv"), nb(fs::path(part.out_dir) / "noise.csv");
  const std::string noise_a((std::istreambuf_iterator<char>(na)), {}), noise_b((std::istreambuf_iterator<char>(nb)), {});
  CHECK(noise_a == noise_b);
  CHECK(noise_a.size() > 100);
  // Resuming a run that had already finished (killed between its last checkpoint and its summary)
  // reports the last epoch's numbers, not zeros.
  const TrainSummary again = train(part);
  CHECK(again.iterations == 3 * (512 / 64));
  std::ifstream fm(fs::path(full.out_dir) / "summary.json");
  const auto full_summary = nlohmann::json::parse(fm);
  CHECK(again.test_accuracy == Approx(full_summary["test_accuracy"].get<double>()));
  CHECK(again.test_loss == Approx(full_summary["test_loss"].get<double>()));
  CHECK(again.test_loss > 0);
}

TEST_CASE("regime_scale compresses the authors' schedule before adaptation", "[trainer][regime]") {
  TrainConfig c = tiny("regime_scale");
  c.epochs = 0;             // the regime's own length: F1's 40 epochs x 0.05 = 2 epochs
  c.regime_scale = 0.05;    // drops at 0.5, 1, 1.5 epochs
  fs::remove_all(c.out_dir);
  const TrainSummary s = train(c);
  CHECK(s.iterations == 2 * (512 / 64));
  std::ifstream in(fs::path(c.out_dir) / "metrics.jsonl");
  std::vector<double> lrs;
  for (std::string line; std::getline(in, line);) lrs.push_back(nlohmann::json::parse(line)["lr"].get<double>());
  REQUIRE(lrs.size() == 2);
  CHECK(lrs[0] == Approx(0.01));    // last batch of epoch 1 sits at 0.875 epochs: second phase
  CHECK(lrs[1] == Approx(0.0001));  // 1.875 epochs: fourth phase
  // With adaptation (B / B_s = 2) the scaled keys double: 4 epochs, the first drop at 1 epoch.
  c.regime_adaptation = true;
  c.ghost_batch_size = 32;
  c.lr_scaling = "sqrt";
  c.out_dir = tmp("regime_scale_ra").string();
  fs::remove_all(c.out_dir);
  CHECK(train(c).iterations == 4 * (512 / 64));
  c.regime_scale = 0;
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("regime_scale = 0"));
}

TEST_CASE("sqrt lr scaling below the small batch, and a CIFAR-shaped synthetic set", "[trainer]") {
  TrainConfig c = tiny("sqrt_below");
  c.batch_size = 32;
  c.ghost_batch_size = 128;  // B < B_s: lr x sqrt(32/128) = 0.05, BN (not GBN) on the whole batch
  c.lr_scaling = "sqrt";
  c.epochs = 1;
  fs::remove_all(c.out_dir);
  train(c);
  std::ifstream in(fs::path(c.out_dir) / "metrics.jsonl");
  std::string line;
  std::getline(in, line);
  CHECK(nlohmann::json::parse(line)["lr"].get<double>() == Approx(0.05));
  // Linear scaling below the reference batch shrinks the lr, without a warm-up: 0.1 x 32/128.
  CHECK(scaled_lr(0.1, 32, 128, LrScaling::kLinearWarmup, 0, 5) == Approx(0.025));
  CHECK(scaled_lr(0.1, 32, 128, LrScaling::kLinearWarmup, 1e9, 5) == Approx(0.025));
  c = tiny("synthetic_cifar");
  c.dataset = "synthetic-cifar";
  c.model = "resnet8";
  c.epochs = 1;
  c.synthetic_size = 128;
  fs::remove_all(c.out_dir);
  CHECK(train(c).iterations == 2);
}

TEST_CASE("the lr reference, the adaptation reference and the ghost batch are separate settings", "[trainer][regime]") {
  // The authors' F1 at B = 32: lr 0.1 belongs to B = 128 (0.05 at B = 32), ghost batches of 128 (plain
  // BN below), the regime adapted to B / 16 here so that B = 64 makes twice the epochs of B = 32.
  TrainConfig c = tiny("references");
  c.batch_size = 64;
  c.ghost_batch_size = 128;
  c.lr_reference_batch = 256;  // lr x sqrt(64/256) = 0.05
  c.adaptation_batch = 32;     // epochs x ceil(64/32) = 2
  c.regime_adaptation = true;
  c.lr_scaling = "sqrt";
  c.epochs = 0;
  c.regime_scale = 0.025;      // F1's 40 epochs -> 1, the first drop at 0.25 epoch; adapted: 2 epochs, drop at 0.5
  fs::remove_all(c.out_dir);
  const TrainSummary s = train(c);
  CHECK(s.iterations == 2 * (512 / 64));
  CHECK(s.first_drop == 4);
  REQUIRE(s.schedule.phases.size() == 4);
  CHECK(s.schedule.phases[0].lr == Approx(0.1 * std::sqrt(64.0 / 256)));
  CHECK(s.schedule.phases[0].momentum == 0.9);
  CHECK(s.schedule.phases[0].weight_decay == Approx(1e-4));
  CHECK(s.schedule.phases[1].start == Approx(0.5));  // 10 x 0.025 x 2
  // summary.json holds the schedule as used.
  std::ifstream in(fs::path(c.out_dir) / "summary.json");
  const auto doc = nlohmann::json::parse(in);
  CHECK(doc["schedule"]["phases"][0]["lr"].get<double>() == Approx(0.05));
  CHECK(doc["schedule"]["first_drop_update"] == 4);
  CHECK(doc["schedule"]["updates_per_epoch"] == 8);
  // 0 means the ghost batch size, as before these settings existed.
  TrainConfig d;
  d.ghost_batch_size = 96;
  CHECK(d.lr_reference() == 96);
  CHECK(d.adaptation_reference() == 96);
  // An old checkpoint's config, without the new fields, still resumes when they are left at 0.
  nlohmann::json old = d;
  old.erase("lr_reference_batch");
  old.erase("adaptation_batch");
  CHECK(resume_mismatches(d, old).empty());
  d.lr_reference_batch = 128;
  CHECK(resume_mismatches(d, old).size() == 1);
  d.lr_reference_batch = 1;
  CHECK_THROWS_WITH(d.validate(), Catch::StartsWith("lr_reference_batch = 1"));
  d = TrainConfig{};
  d.adaptation_batch = -3;
  CHECK_THROWS_WITH(d.validate(), Catch::StartsWith("adaptation_batch = -3"));
  d = TrainConfig{};
  d.batch_size = 64;
  d.ghost_batch_size = 32;
  d.lr_reference_batch = 128;
  d.lr_scaling = "linear";
  CHECK_NOTHROW(d.validate());  // linear scaling below the reference: lr x 64/128, no warm-up
  // WResNet16-4 decays its weights by 1e-4, as the authors' code (not 5e-4).
  CHECK(authors_regime("wresnet16-4").phases.front().weight_decay == Approx(1e-4));
}

TEST_CASE("the schedule's lr phases, momentum and weight decay can be set, and config.json says what they resolve to", "[trainer][regime]") {
  TrainConfig c;
  // The authors' F1 by default.
  Regime r = resolve_regime(c);
  REQUIRE(r.phases.size() == 4);
  CHECK(r.phases[1].start == 10);
  CHECK(r.phases[1].lr == Approx(0.01));
  CHECK(r.phases[0].momentum == 0.9);
  // A schedule of its own: lr phases replaced, momentum and weight decay kept from the authors' phase.
  c.lr_schedule = "0:0.2,5:0.02";
  r = resolve_regime(c);
  REQUIRE(r.phases.size() == 2);
  CHECK(r.phases[1].start == 5);
  CHECK(r.phases[1].lr == Approx(0.02));
  CHECK(r.phases[1].weight_decay == Approx(1e-4));
  c.lr = 0.1;  // scales the given schedule
  CHECK(resolve_regime(c).phases[1].lr == Approx(0.01));
  c.momentum = 0.5;
  c.weight_decay = 0;
  r = resolve_regime(c);
  CHECK(r.phases[0].momentum == 0.5);
  CHECK(r.phases[1].weight_decay == 0);
  CHECK_NOTHROW(c.validate());
  // Refused with the field named.
  for (const char* bad : {"1:0.1", "0:0.1,0:0.01", "0:x", "0:0.1,", "0:-1", "0:0.1,50:0.01"}) {
    TrainConfig d;
    d.lr_schedule = bad;
    CHECK_THROWS_WITH(d.validate(), Catch::StartsWith("lr_schedule = "));
  }
  TrainConfig d;
  d.momentum = 1;
  CHECK_THROWS_WITH(d.validate(), Catch::StartsWith("momentum = 1"));
  d = TrainConfig{};
  d.weight_decay = -0.5;
  CHECK_THROWS_WITH(d.validate(), Catch::StartsWith("weight_decay = -0.5"));
  d = TrainConfig{};
  d.dist_timeout = 1e300;
  CHECK_THROWS_WITH(d.validate(), Catch::StartsWith("dist_timeout = "));
  // config.json holds the resolved schedule and reads back; an edited one is refused.
  TrainConfig t = tiny("schedule");
  t.lr_schedule = "0:0.05,1:0.005";
  t.epochs = 2;
  fs::remove_all(t.out_dir);
  (void)train(t);
  std::ifstream in(fs::path(t.out_dir) / "config.json");
  nlohmann::json doc = nlohmann::json::parse(in);
  CHECK(doc["schedule"]["phases"][1]["lr"].get<double>() == Approx(0.005));
  CHECK(doc["schedule"]["phases"][0]["momentum"].get<double>() == Approx(0.9));
  TrainConfig back;
  CHECK_NOTHROW(apply_json(doc, back, "in config.json"));
  CHECK(back.lr_schedule == t.lr_schedule);
  doc["schedule"]["phases"][1]["lr"] = 0.5;
  CHECK_THROWS_WITH(apply_json(doc, back, "in config.json"), Catch::StartsWith("schedule = "));
  // A plan of no update is refused before anything is written.
  TrainConfig z = tiny("zero");
  z.epochs = 1e-6;
  fs::remove_all(z.out_dir);
  CHECK_THROWS_WITH(train(z), Catch::Contains("gives no update"));
  CHECK_FALSE(fs::exists(z.out_dir));
  CHECK_THROWS_WITH(preflight(z), Catch::Contains("gives no update"));
}

TEST_CASE("a tiny run learns on CUDA (skipped without a GPU)", "[trainer][cuda]") {
  if (!torch::cuda::is_available()) {
    WARN("no CUDA device: skipped");
    return;
  }
  TrainConfig c = tiny("learn_cuda");
  c.device = "cuda";
  c.norm = "gbn";
  c.ghost_batch_size = 16;
  fs::remove_all(c.out_dir);
  const TrainSummary s = train(c);
  CHECK(s.device.rfind("cuda", 0) == 0);
  CHECK(s.test_accuracy > 0.5);
}

TEST_CASE("a NaN loss stops the run with a clear message and keeps the last good checkpoint", "[trainer]") {
  TrainConfig c = tiny("nan");
  c.epochs = 1;
  fs::remove_all(c.out_dir);
  train(c);  // one good epoch: checkpoint at epoch 1
  const auto good = load_weights(c.out_dir, "f1", "bn", 128);
  c.epochs = 3;
  c.resume = true;
  c.lr = 1e30;  // diverges in the second epoch
  c.clip_norm = 0;
  CHECK_THROWS_WITH(train(c), Catch::Contains("the loss is") && Catch::Contains("training stopped") &&
                                  Catch::Contains("checkpoint.pt"));
  const auto kept = load_weights(c.out_dir, "f1", "bn", 128);
  REQUIRE(kept.size() == good.size());
  for (std::size_t i = 0; i < kept.size(); ++i) CHECK(torch::equal(kept[i], good[i]));
}

TEST_CASE("bad or contradictory configs are rejected naming the field", "[trainer][errors]") {
  TrainConfig c = tiny("bad");
  c.norm = "gbn";
  c.ghost_batch_size = 128;
  c.batch_size = 64;
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("ghost_batch_size = 128"));
  c = tiny("bad");
  c.lr = -1;
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("lr = -1"));
  c = tiny("bad");
  c.model = "lenet";
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("model = lenet"));
  c = tiny("bad");
  c.dataset = "imagenet";
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("dataset = imagenet"));
  c = tiny("bad");
  c.synthetic_noise = -1;
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("synthetic_noise = -1"));
  c = tiny("bad");
  c.device = "tpu";
  CHECK_THROWS_WITH(c.validate(), Catch::StartsWith("device = tpu"));
  TrainConfig d;
  CHECK_THROWS_WITH(from_json(nlohmann::json{{"batchsize", 3}}, d), Catch::StartsWith("batchsize = 3"));
  CHECK_THROWS_WITH(from_json(nlohmann::json{{"batch_size", "big"}}, d), Catch::StartsWith("batch_size = \"big\": expected an integer"));
  c = tiny("bad");
  c.dataset = "cifar10";
  c.data_dir = tmp("nowhere").string();
  CHECK_THROWS_AS(train(c), DataError);
}

TEST_CASE("checkpoints are verified before LibTorch reads them, and their state is checked field by field", "[trainer][checkpoint]") {
  torch::manual_seed(3);
  torch::nn::Sequential m(torch::nn::Linear(3, 2));
  torch::optim::SGD opt(m->parameters(), torch::optim::SGDOptions(0.1));
  std::map<std::string, torch::Tensor> w0;
  for (const auto& p : m->named_parameters()) w0[p.key()] = p.value().detach().clone();
  CheckpointState st;
  st.iteration = 5;
  st.config = TrainConfig{};
  const std::string good = checkpoint_bytes(*m, opt, w0, st);
  CHECK(checkpoint_intact(good));
  const Checkpoint ck(good, "ck.pt", torch::kCPU);
  CHECK(ck.state().iteration == 5);
  CHECK(ck.state().config["model"] == "f1");
  // Every damaged copy is refused before LibTorch sees it: truncated, extended, one byte altered.
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x10);
  for (const auto& [what, bytes, needle] : std::vector<std::tuple<std::string, std::string, std::string>>{
           {"truncated", good.substr(0, good.size() - 100), "is truncated or extended"},
           {"extended", good + "xx", "is truncated or extended"},
           {"altered", flipped, "is corrupt: its checksum does not match"},
           {"foreign", good.substr(24), "is not a gengap checkpoint"},
           {"empty", "", "is empty"}}) {
    INFO(what);
    CHECK_FALSE(checkpoint_intact(bytes));
    CHECK_THROWS_WITH(Checkpoint(bytes, "ck.pt", torch::kCPU), Catch::StartsWith("checkpoint = ck.pt: " + needle));
  }
  // An intact container with a damaged state: named, one line.
  for (const auto& [state, needle] : std::vector<std::pair<std::string, std::string>>{
           {"{", "malformed JSON"},
           {R"({"format": "gengap-checkpoint-1", "iteration": -1, "epoch": 0, "probe0": 0, "world_size": 1, "metrics": [], "distances": [], "config": {}})",
            "negative or inconsistent counters"},
           {R"({"format": "gengap-checkpoint-1", "iteration": 1, "epoch": 0, "probe0": 0, "world_size": 1, "metrics": [{"epoch": 1}], "distances": [], "config": {}})",
            "has no number \"iteration\""},
           {R"({"format": "gengap-checkpoint-1", "iteration": 1.5, "epoch": 0, "probe0": 0, "world_size": 1, "metrics": [], "distances": [], "config": {}})",
            "iteration = 1.5"},
           {R"({"format": "other"})", "format"}}) {
    INFO(state);
    CHECK_THROWS_WITH(Checkpoint(checkpoint_bytes_with_state(*m, opt, w0, state), "ck.pt", torch::kCPU), Catch::Contains(needle));
  }
  // A checkpoint of another model does not load into F1: named, without LibTorch's backtrace.
  ModelOptions o;
  o.norm = norm_factory("bn", 128);
  auto f1 = make_model("f1", o);
  Checkpoint other(good, "ck.pt", torch::kCPU);
  const std::string err = [&] {
    try {
      other.load_model(*f1);
    } catch (const std::exception& e) {
      return std::string(e.what());
    }
    return std::string();
  }();
  CHECK(err.rfind("checkpoint = ck.pt: does not fit this model", 0) == 0);
  CHECK(err.find('\n') == std::string::npos);
}
