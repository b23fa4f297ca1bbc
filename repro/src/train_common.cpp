// What the training experiments share.
#include "train_common.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cmath>
#include <iomanip>
#include <iostream>
#include <map>
#include <thread>

#include <torch/cuda.h>

#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"
#include "gengap/train/data.hpp"
#include "gengap/train/regime.hpp"

extern char** environ;  // NOLINT: the process environment, handed to the workers

namespace gengap::repro {
namespace {
// Whether a run with this device setting trains on a GPU (auto: when CUDA is present).
bool on_gpu(const std::string& device) { return device == "auto" ? torch::cuda::is_available() : device.rfind("cuda", 0) == 0; }
}  // namespace

bool training_available() { return true; }

int auto_jobs() {
  if (on_gpu("auto")) return 1;
  return static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
}

int train_worker(const std::filesystem::path& dir) {
  train::TrainConfig c;
  try {  // the config: exit code 2 when it cannot be read or is not a valid training config
    const nlohmann::json j = core::read_json_file((dir / "worker_config.json").string(), "worker config");
    train::apply_json(j, c, (dir / "worker_config.json").string());
    c.validate();
  } catch (const std::exception& e) {
    std::cerr << "gengap-repro --train-worker: " << e.what() << '\n';
    return 2;
  }
  try {
    train::train(c);
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "gengap-repro --train-worker: " << e.what() << '\n';
    return 1;
  }
}
}  // namespace gengap::repro

namespace gengap::repro::detail {
namespace fs = std::filesystem;
using nlohmann::json;

std::string regime_text(const train::TrainConfig& c) {
  const train::Regime r = train::authors_regime(c.model);
  std::string out;
  for (const auto& p : r.phases) out += (out.empty() ? "" : ", ") + fmt(p.start, 4) + ":" + fmt(p.lr, 4);
  out += r.unit == train::RegimeUnit::kEpoch ? " (epochs)" : " (updates)";
  out += "; momentum " + fmt(r.phases.front().momentum, 3) + ", weight decay " + fmt(r.phases.front().weight_decay, 3) + "; " + fmt(r.length, 4) +
         (r.unit == train::RegimeUnit::kEpoch ? " epochs" : " updates");
  return out;
}

void TrainBase::read(core::ObjectReader& r) {
  r.optional("model", model);
  r.optional("dataset", dataset);
  r.optional("data_dir", data_dir);
  r.optional("small_batch", small_batch);
  r.optional("ghost_batch", ghost_batch);
  r.optional("lr_reference_batch", lr_reference_batch);
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
  sim::require(ghost_batch >= 0 && ghost_batch != 1, "ghost_batch", ghost_batch, "must be >= 2 (0 = small_batch) " + in_file(x.file));
  sim::require(lr_reference_batch >= 0 && lr_reference_batch != 1, "lr_reference_batch", lr_reference_batch,
               "must be >= 2 (0 = small_batch) " + in_file(x.file));
  t.ghost_batch_size = ghost_batch > 0 ? ghost_batch : small_batch;
  t.adaptation_batch = small_batch;
  t.lr_reference_batch = lr_reference_batch > 0 ? lr_reference_batch : small_batch;
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

namespace {

// What a finished run's results depend on besides its config: bump it when a change to the training
// code alters what a run computes (or changes a TrainConfig default), so that finished runs retrain.
constexpr const char* kTrainRunVersion = "gengap-train-run-1";

// The run's identity: the fields of its config that differ from TrainConfig's defaults (without
// resume and progress), and kTrainRunVersion. Not the program's hash nor the experiment's: a rebuild,
// a change to the analysis or a new TrainConfig field (with a default) must not throw away hours of
// finished training (the paper profile's runs outlive many builds).
std::string run_hash(const train::TrainConfig& c, const std::string& /*experiment_hash*/) {
  const json cj = c, defaults = train::TrainConfig{};
  json diff = json::object();
  for (const auto& [k, v] : cj.items()) {
    if (k == "resume" || k == "progress") continue;
    if (!defaults.contains(k) || defaults[k] != v) diff[k] = v;
  }
  return hex64(fnv1a(diff.dump(), fnv1a(kTrainRunVersion)));
}

bool finished(const train::TrainConfig& c, const std::string& h) {
  const fs::path dir(c.out_dir), marker = dir / "repro_hash";
  return fs::exists(marker) && read_text(marker) == h && fs::exists(dir / "summary.json");
}

// Makes the run's folder ready to train into: a fresh folder with the hash when it held another run
// (or none), else kept, resuming from its last checkpoint if one was written. Sets c.resume.
void prepare(train::TrainConfig& c, const std::string& h) {
  const fs::path dir(c.out_dir), marker = dir / "repro_hash";
  const std::string old = fs::exists(marker) ? read_text(marker) : std::string();
  if (old != h) {
    fs::remove_all(dir);
    fs::create_directories(dir);
    core::write_file_atomic(marker.string(), h);
    c.resume = false;
  } else {
    c.resume = fs::exists(dir / "checkpoint.pt");
  }
}

}  // namespace

json run_once(train::TrainConfig c, const std::string& experiment_hash, bool* reused) {
  const std::string h = run_hash(c, experiment_hash);
  const fs::path dir(c.out_dir);
  *reused = finished(c, h);
  if (*reused) return json::parse(read_text(dir / "summary.json"));
  prepare(c, h);
  if (c.resume) std::cerr << "  resuming " << dir.string() << " from its last checkpoint\n";
  train::train(c);
  return json::parse(read_text(dir / "summary.json"));
}

void run_in_workers(std::vector<train::TrainConfig> cfgs, const std::string& experiment_hash, int jobs, const std::string& name) {
  if (jobs <= 1) return;
  for (const auto& c : cfgs)
    if (on_gpu(c.device)) return;  // runs on a GPU would share it: one at a time, in this process
  std::vector<std::size_t> todo;
  for (std::size_t i = 0; i < cfgs.size(); ++i)
    if (!finished(cfgs[i], run_hash(cfgs[i], experiment_hash))) todo.push_back(i);
  if (todo.empty()) return;
  // The shortest runs first (by planned samples; ties keep the experiment's order): a long pipeline
  // interrupted, or read while it runs, has finished as many runs, and so as many columns, as it can.
  std::stable_sort(todo.begin(), todo.end(), [&cfgs](std::size_t a, std::size_t b) { return planned_work(cfgs[a]) < planned_work(cfgs[b]); });
  // The workers run this very program: /proc/self/exe, which execs even when the file was replaced
  // or deleted since this process started (a rebuild during a run), so they match the experiment's hash.
  const std::string exe = "/proc/self/exe";
  const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  const int threads = static_cast<int>(std::max(1u, cores / static_cast<unsigned>(jobs)));
  // The workers' environment: this one with the thread counts of OpenMP and the BLAS set (read
  // when a worker starts; OPENBLAS_CORETYPE and the rest pass through unchanged).
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string v(*e);
    if (v.rfind("OMP_NUM_THREADS=", 0) == 0 || v.rfind("OPENBLAS_NUM_THREADS=", 0) == 0 || v.rfind("MKL_NUM_THREADS=", 0) == 0) continue;
    env.push_back(v);
  }
  for (const char* k : {"OMP_NUM_THREADS=", "OPENBLAS_NUM_THREADS=", "MKL_NUM_THREADS="}) env.push_back(k + std::to_string(threads));
  std::vector<char*> envp;
  for (auto& v : env) envp.push_back(v.data());
  envp.push_back(nullptr);
  std::cerr << "[" << name << "] " << todo.size() << " runs, " << jobs << " at a time in worker processes of " << threads
            << " thread(s) each (--jobs; logs in each run's worker.log)\n";
  std::map<pid_t, std::size_t> running;
  std::size_t next = 0, done = 0;
  double work_left = 0, work_done = 0;  // planned samples, for the time-left estimate
  for (std::size_t i : todo) work_left += planned_work(cfgs[i]);
  const auto t0 = std::chrono::steady_clock::now();
  auto start = [&](std::size_t i) {
    train::TrainConfig c = cfgs[i];
    prepare(c, run_hash(c, experiment_hash));
    c.progress = false;
    const fs::path dir(c.out_dir);
    if (c.resume) std::cerr << "  resuming " << dir.string() << " from its last checkpoint (in a worker)\n";
    json cj = c;
    core::write_file_atomic((dir / "worker_config.json").string(), cj.dump(2) + "\n");
    const std::string log = (dir / "worker.log").string(), d = dir.string();
    std::string self = "gengap-repro", flag = "--train-worker";
    std::vector<char*> argv = {self.data(), flag.data(), const_cast<char*>(d.c_str()), nullptr};
    const pid_t pid = fork();
    if (pid == 0) {  // the child: only async-signal-safe calls until exec
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // ends with the pipeline
      const int fd = open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
      }
      execve(exe.c_str(), argv.data(), envp.data());
      _exit(127);
    }
    if (pid < 0) throw core::RuntimeError("cannot start a worker process for " + d);
    running[pid] = i;
  };
  while (next < todo.size() || !running.empty()) {
    while (next < todo.size() && static_cast<int>(running.size()) < jobs) start(todo[next++]);
    int status = 0;
    const pid_t pid = waitpid(-1, &status, 0);
    if (pid < 0) {
      if (errno == EINTR) continue;
      break;
    }
    const auto it = running.find(pid);
    if (it == running.end()) continue;
    const std::size_t run = it->second;
    const std::string dir = cfgs[run].out_dir;
    running.erase(it);
    ++done;
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    work_done += planned_work(cfgs[run]);
    work_left -= planned_work(cfgs[run]);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
      std::cerr << "[" << name << "] " << done << "/" << todo.size() << " finished: " << dir << " (" << std::fixed << std::setprecision(0)
                << secs << " s so far";
      if (work_left > 0 && work_done > 0) std::cerr << ", about " << work_left * secs / work_done << " s left in this experiment";
      std::cerr << ")\n" << std::defaultfloat;
    } else {
      // The run is done again in this process by run_once (resumed from its last checkpoint), where
      // its error, if it has one, stops the pipeline with its message.
      std::cerr << "[" << name << "] worker for " << dir << " failed ("
                << (WIFEXITED(status) ? "exit code " + std::to_string(WEXITSTATUS(status)) : "signal " + std::to_string(WTERMSIG(status)))
                << ", see its worker.log): the run continues in this process\n";
    }
  }
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

void Eta::begin(std::size_t i, std::size_t n, const std::string& label, bool finished) const {
  if (finished) return;
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

bool run_finished(const train::TrainConfig& c) { return finished(c, run_hash(c, "")); }

double mean(const std::vector<double>& v) {
  double s = 0;
  for (double x : v) s += x;
  return v.empty() ? std::nan("") : s / static_cast<double>(v.size());
}

}  // namespace gengap::repro::detail
