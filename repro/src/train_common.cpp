// What the training experiments share.
#include "train_common.hpp"

#include <unistd.h>

#include <cmath>
#include <iomanip>
#include <iostream>

#include "gengap/core/io.hpp"
#include "gengap/train/data.hpp"
#include "gengap/train/regime.hpp"

namespace gengap::repro {
bool training_available() { return true; }
}  // namespace gengap::repro

namespace gengap::repro::detail {
namespace fs = std::filesystem;
using nlohmann::json;

void TrainBase::read(core::ObjectReader& r) {
  r.optional("model", model);
  r.optional("dataset", dataset);
  r.optional("data_dir", data_dir);
  r.optional("small_batch", small_batch);
  r.optional("regime_scale", regime_scale);
  r.optional("train_subset", train_subset);
  r.optional("test_subset", test_subset);
  r.optional("synthetic_size", synthetic_size);
  r.optional("synthetic_noise", synthetic_noise);
  r.optional("device", device);
  r.optional("clip_norm", clip_norm);
  r.optional("augment", augment);
  r.optional("probe_size", probe_size);
}

train::TrainConfig TrainBase::config(const Context& x) const {
  train::TrainConfig t;
  sim::require(!model.empty(), "model", "(missing)", "required field " + in_file(x.file));
  sim::require(!dataset.empty(), "dataset", "(missing)", "required field " + in_file(x.file));
  t.model = model;
  t.dataset = dataset;
  if (t.dataset == "cifar10" || t.dataset == "cifar100") {
    if (x.data_root.empty())
      throw Skipped(t.model + " on " + t.dataset + " needs the data set: pass --data-root DIR (CMake: -DGENGAP_REPRO_DATA=DIR) "
                    "with " + (t.dataset == "cifar10" ? "DIR/cifar-10-batches-bin/{data_batch_1..5,test_batch}.bin"
                                                      : "DIR/cifar-100-binary/{train,test}.bin") +
                    " (the binary versions from https://www.cs.toronto.edu/~kriz/cifar.html)");
    t.data_dir = x.data_root;
    try {  // a clear message naming the files, before any time is spent
      if (t.dataset == "cifar10") train::load_cifar10(t.data_dir, false);
      else train::load_cifar100(t.data_dir, false);
    } catch (const train::DataError& e) {
      throw Skipped(e.what());
    }
  } else if (!data_dir.empty()) {
    t.data_dir = data_dir;
  }
  sim::require(small_batch >= 1, "small_batch", small_batch, "required, >= 1 " + in_file(x.file));
  t.ghost_batch_size = small_batch;
  t.regime_scale = regime_scale;
  t.train_subset = train_subset;
  t.test_subset = test_subset;
  t.synthetic_size = synthetic_size;
  t.synthetic_noise = synthetic_noise;
  t.device = device;
  t.clip_norm = clip_norm;
  t.augment = augment;
  t.probe_size = probe_size;
  t.progress = isatty(STDERR_FILENO) != 0;
  return t;
}

json run_once(train::TrainConfig c, const std::string& experiment_hash, bool* reused) {
  json cj = c;
  cj.erase("resume");
  cj.erase("progress");
  const std::string h = hex64(fnv1a(cj.dump(), fnv1a(experiment_hash)));
  const fs::path dir(c.out_dir), marker = dir / "repro_hash";
  const std::string old = fs::exists(marker) ? read_text(marker) : std::string();
  *reused = false;
  if (old == h && fs::exists(dir / "summary.json")) {
    *reused = true;
    return json::parse(read_text(dir / "summary.json"));
  }
  if (old != h) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    core::write_file_atomic(marker.string(), h);
    c.resume = false;
  } else {
    // Same run, interrupted: the trainer continues from its last checkpoint (if one was written).
    c.resume = fs::exists(dir / "checkpoint.pt");
    if (c.resume) std::cerr << "  resuming " << dir.string() << " from its last checkpoint\n";
  }
  train::train(c);
  return json::parse(read_text(dir / "summary.json"));
}

std::map<std::string, std::vector<double>> csv_columns(const fs::path& p) {
  const core::CsvTable t = core::read_csv(p.string());
  std::map<std::string, std::vector<double>> out;
  for (std::size_t i = 0; i < t.names.size(); ++i) out[t.names[i]] = t.cols[i];
  return out;
}

double planned_samples(const train::TrainConfig& t) {
  if (t.train_subset > 0) return static_cast<double>(t.train_subset);
  if (t.dataset.rfind("synthetic", 0) == 0) return static_cast<double>(t.synthetic_size);
  return t.dataset.rfind("cifar", 0) == 0 ? 50000.0 : 60000.0;
}

double planned_work(const train::TrainConfig& t) {
  const train::RegimePlan p = train::plan_regime(t, static_cast<std::int64_t>(planned_samples(t)));
  return static_cast<double>(p.total) * static_cast<double>(t.batch_size);
}

void Eta::begin(std::size_t i, std::size_t n, const std::string& label) const {
  std::cerr << "[" << name_ << "] run " << i + 1 << "/" << n << ": " << label;
  if (done_ > 0 && seconds_ > 0)
    std::cerr << " (about " << std::fixed << std::setprecision(0) << (planned_ - done_) * seconds_ / done_
              << " s left in this experiment)" << std::defaultfloat;
  std::cerr << '\n';
}

void Eta::end(double work, double seconds, bool reused) {
  done_ += work;
  if (!reused) {
    seconds_ += seconds;
  } else {
    planned_ -= work;  // reused runs cost nothing and tell nothing about the rate
    done_ -= work;
  }
}

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}

}  // namespace gengap::repro::detail
