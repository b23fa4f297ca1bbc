// gengap-train: train one of the paper's models with its large-batch techniques, from flags or JSON.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>
#include <algorithm>
#include <vector>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include <c10/util/Exception.h>

#include "gengap/core/blas.hpp"
#include "gengap/core/memory.hpp"
#include "cli.hpp"
#include "gengap/core/error.hpp"
#include "gengap/core/json.hpp"
#include "gengap/train/data.hpp"
#include "gengap/train/distributed.hpp"
#include "gengap/train/trainer.hpp"

namespace {

std::vector<pid_t> g_workers;  // for the signal handler: forward SIGINT/SIGTERM to the workers

void forward_signal(int sig) {
  for (pid_t p : g_workers)
    if (p > 0) kill(p, sig);
}

/// A free TCP port on the loopback interface (the kernel picks it; there is a small window in which
/// another program could take it before rank 0 listens, in which case rank 0 says so).
int free_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error("--nproc: cannot open a socket to find a free port");
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  socklen_t len = sizeof a;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) != 0 || getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) != 0) {
    close(fd);
    throw std::runtime_error("--nproc: cannot bind a loopback socket to find a free port");
  }
  const int port = ntohs(a.sin_port);
  close(fd);
  return port;
}

std::string describe(int status) {
  if (WIFEXITED(status)) return "exited with code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) + " (" + strsignal(WTERMSIG(status)) + ")";
  return "stopped";
}

/// Starts `nproc` workers of this program on this machine (ranks 0 ... nproc-1, loopback rendezvous)
/// and supervises them: when one fails, the others get `grace` seconds to stop on their own (they
/// notice the lost peer, or time out) before they are terminated. Returns the exit code.
int launch_local(int nproc, const std::vector<std::string>& args, int port, double grace) {
  if (port == 0) port = free_port();
  std::cerr << "gengap-train: starting " << nproc << " workers (rendezvous 127.0.0.1:" << port << ")\n";
  struct sigaction sa {};
  sa.sa_handler = forward_signal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  // One core share per worker unless the user chose (as torchrun does): N workers x all cores each
  // would oversubscribe the machine.
  if (std::getenv("OMP_NUM_THREADS") == nullptr) {
    const unsigned cores = std::max(1u, std::thread::hardware_concurrency());
    const std::string per = std::to_string(std::max(1u, cores / static_cast<unsigned>(nproc)));
    setenv("OMP_NUM_THREADS", per.c_str(), 1);
    std::cerr << "gengap-train: OMP_NUM_THREADS=" << per << " per worker (" << cores << " cores; set it to override)\n";
  }
  for (int r = 0; r < nproc; ++r) {
    std::vector<std::string> a = args;
    for (const std::string& x : {std::string("--world-size"), std::to_string(nproc), std::string("--rank"), std::to_string(r),
                                 std::string("--master-addr"), std::string("127.0.0.1"), std::string("--master-port"), std::to_string(port)})
      a.push_back(x);
    if (r > 0) a.push_back("--no-progress");
    std::vector<char*> av;
    for (auto& x : a) av.push_back(x.data());
    av.push_back(nullptr);
    const pid_t pid = fork();
    if (pid < 0) throw std::runtime_error("--nproc: fork failed");
    if (pid == 0) {
      execv("/proc/self/exe", av.data());
      std::perror("gengap-train: execv");
      _exit(127);
    }
    g_workers.push_back(pid);
  }
  int code = 0, alive = nproc;
  std::chrono::steady_clock::time_point deadline{};
  bool failing = false;
  while (alive > 0) {
    int status = 0;
    const pid_t pid = waitpid(-1, &status, failing ? WNOHANG : 0);
    if (pid > 0) {
      --alive;
      int rank = 0;
      for (std::size_t i = 0; i < g_workers.size(); ++i)
        if (g_workers[i] == pid) {
          rank = static_cast<int>(i);
          g_workers[i] = -1;
        }
      const bool ok = WIFEXITED(status) && WEXITSTATUS(status) == 0;
      if (!ok && !failing) {
        std::cerr << "gengap-train: worker " << rank << " " << describe(status) << "; waiting up to " << grace
                  << " s for the other workers to stop\n";
        failing = true;
        code = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
        deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(static_cast<long>(grace * 1000));
      }
      continue;
    }
    if (pid < 0 && errno != EINTR) break;
    if (failing) {
      if (std::chrono::steady_clock::now() > deadline) {
        std::cerr << "gengap-train: terminating the workers still running\n";
        forward_signal(SIGKILL);
        deadline = std::chrono::steady_clock::now() + std::chrono::hours(1);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  gengap::core::prefer_avx2_blas(argv);  // OpenBLAS's AVX2 kernels where it fell back to generic ones (may re-execute)
  gengap::core::keep_freed_memory();  // reuse freed tensors' memory (no page-fault storm per step)
  gengap::cli::prepare_process();     // a write beyond ulimit -f fails (and is reported), not SIGXFSZ
  using gengap::train::TrainConfig;
  CLI::App app{"gengap-train: large-batch training with ghost batch norm, lr scaling and regime adaptation (Hoffer et al. 2017)"};
  TrainConfig c;
  gengap::cli::Options o(&app);  // --config FILE; flags checked by type (no -1 for unsigned, no nan)
  app.set_version_flag("--version", "gengap-train 0.1.0");
  o.add("-m,--model", "", c.model, "f1 | c1 | c3 | resnet44 (resnetN) | vgg | wresnet16-4");
  o.add("-d,--dataset", "", c.dataset, "fashion-mnist | mnist | cifar10 | cifar100 | synthetic | synthetic-cifar");
  o.add("--data-dir", "", c.data_dir, "folder of the data files");
  o.add("-b,--batch-size", "", c.batch_size, "samples per update (B)");
  o.add("-g,--ghost-batch-size", "", c.ghost_batch_size, "small batch B_s: GBN ghost size, and the lr and adaptation reference unless set below");
  o.add("--lr-reference-batch", "", c.lr_reference_batch, "the batch the regime's lr belongs to (authors' F1: 128 at lr 0.1; 0 = the ghost batch size)");
  o.add("--adaptation-batch", "", c.adaptation_batch, "regime adaptation multiplies epochs by ceil(B / this) (0 = the ghost batch size)");
  o.add("--norm", "", c.norm, "bn | gbn | none");
  o.add("--lr-scaling", "", c.lr_scaling, "none | sqrt (the paper) | linear (Goyal et al., with warm-up)");
  o.add("--warmup-epochs", "", c.warmup_epochs, "warm-up epochs of linear scaling");
  o.flag("--regime-adaptation,!--no-regime-adaptation", "", c.regime_adaptation, "multiply epochs and milestones by ceil(B/B_s)");
  o.add("--regime-scale", "", c.regime_scale, "multiply the regime's epoch keys and length (before adaptation)");
  o.add("-e,--epochs", "", c.epochs, "epochs (0 = the regime's length)");
  o.add("--max-iterations", "", c.max_iterations, "stop after this many updates (0 = no limit)");
  o.add("--lr", "", c.lr, "first-phase learning rate of the reference batch; later phases keep their ratios (0 = the schedule's own: F1, ResNet, VGG, WResNet 0.1; C1/C3 0.001)");
  o.add("--lr-schedule", "", c.lr_schedule, "epoch:lr phases, e.g. 0:0.1,10:0.01,20:0.001,30:0.0001 (the authors' F1; empty = the model's authors' schedule; config.json's \"schedule\" shows what was used)");
  o.add("--momentum", "", c.momentum, "SGD momentum in every phase (-1 = the schedule's: 0.9, C1/C3 0)");
  o.add("--weight-decay", "", c.weight_decay, "L2 weight decay in every phase (-1 = the schedule's: 1e-4, C1/C3 5e-4)");
  o.flag("--nesterov,!--no-nesterov", "", c.nesterov, "Nesterov momentum");
  o.add("--clip-norm", "", c.clip_norm, "gradient-norm clipping (0 = off)");
  o.add("-s,--seed", "", c.seed, "seed");
  o.add("--device", "", c.device, "auto | cpu | cuda | cuda:N");
  o.add("--dtype", "", c.dtype, "float32 | float64 (exact comparisons)");
  o.add("-o,--out-dir", "", c.out_dir, "output folder");
  o.add("--train-subset", "", c.train_subset, "use the first N training samples (0 = all)");
  o.add("--test-subset", "", c.test_subset, "use the first N test samples (0 = all)");
  o.add("--synthetic-size", "", c.synthetic_size, "training samples of the synthetic set");
  o.add("--synthetic-noise", "", c.synthetic_noise, "noise std of the synthetic sets (patterns have std 1)");
  o.add("--distance-per-decade", "", c.distance_per_decade, "distance records per decade after t = 100");
  o.add("--probe-size", "", c.probe_size, "samples in each fixed probe set (training, test) for L(w_t) - L(w_0)");
  o.flag("--noise-scale,!--no-noise-scale", "", c.noise_scale, "measure the gradient noise scale B_simple (noise.csv)");
  o.add("--snapshot-at", "", c.snapshot_iterations, "save the weights after these updates (0 = w_0) to out_dir/snapshots");
  o.flag("--augment,!--no-augment", "", c.augment, "CIFAR crop + flip");
  o.flag("--resume,!--no-resume", "", c.resume, "continue from out_dir/checkpoint.pt");
  o.flag("--progress,!--no-progress", "", c.progress, "progress on stderr");
  int nproc = 0;
  o.add("--nproc", "", nproc, "start this many data-parallel workers on this machine and supervise them (each takes batch_size / nproc samples)");
  auto* o_ws = o.add("--world-size", "", c.world_size, "workers in a job started by another launcher");
  auto* o_rank = o.add("--rank", "", c.rank, "this worker's rank (0 writes the files)");
  o.add("--master-addr", "", c.master_addr, "rank 0's host for the rendezvous");
  auto* o_port = o.add("--master-port", "", c.master_port, "rank 0's port (with --nproc: default a free one)");
  o.add("--dist-timeout", "", c.dist_timeout, "seconds before a rendezvous or collective gives up");
  bool check_only = false;
  app.add_flag("--check", check_only, "check everything (config, data, the model on the data, checkpoint, out_dir) and exit without training");
  try {
    const std::string cfg_file = gengap::cli::find_config(argc, argv);
    if (!cfg_file.empty()) {
      gengap::train::apply_json(gengap::core::read_json_file(cfg_file, "config"), c, "in " + cfg_file);
    }
    app.parse(argc, argv);
    if (nproc < 0 || nproc > 1024) throw gengap::core::InvalidArgument("nproc", std::to_string(nproc), "must lie in [1, 1024]");
    if (check_only) {
      TrainConfig check = c;
      if (nproc > 1) check.world_size = nproc;
      gengap::train::preflight(check);
      std::cerr << "gengap-train: the run checks out (--check: nothing was trained)\n";
      return 0;
    }
    if (nproc > 1) {
      if (o_ws->count() > 0 || o_rank->count() > 0)
        throw gengap::core::InvalidArgument("nproc", std::to_string(nproc), "--nproc starts the workers itself; do not pass --world-size or --rank");
      TrainConfig check = c;  // fail here, not in every worker: a bad setting, data, checkpoint or out_dir
      check.world_size = nproc;
      check.progress = false;
      gengap::train::preflight(check);
      std::vector<std::string> args;
      for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--nproc") {
          ++i;
          continue;
        }
        if (a.rfind("--nproc=", 0) == 0) continue;
        args.push_back(a);
      }
      args.insert(args.begin(), std::string(argv[0]));
      return launch_local(nproc, args, o_port->count() > 0 ? c.master_port : 0, c.dist_timeout + 10);
    }
    const auto s = gengap::train::train(c);
    if (c.rank != 0) return 0;  // rank 0 reports for the job
    std::cout << "test accuracy " << 100 * s.test_accuracy << "% after " << s.iterations << " iterations (" << s.epochs
              << " epochs) on " << s.device << "; ||w - w0|| = " << s.final_distance << "; results in " << c.out_dir << '\n';
    if (!gengap::cli::stdout_ok()) {
      std::cerr << "gengap-train: failed: standard output could not be written (the results are in " << c.out_dir << ")\n";
      return 1;
    }
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "gengap-train: error: " << gengap::core::printable(e.what(), 400) << " (see --help)\n";
    return 2;
  } catch (const gengap::core::InputError& e) {  // bad flags, config, data or checkpoint
    std::cerr << "gengap-train: error: " << e.what() << '\n';
    return 2;
  } catch (const gengap::train::DistributedError& e) {
    std::cerr << "gengap-train: failed: " << e.what() << '\n';
    return 3;
  } catch (const c10::Error& e) {  // LibTorch: its first line, without the backtrace
    std::string m = e.what_without_backtrace();
    if (m.find('\n') != std::string::npos) m.resize(m.find('\n'));
    std::cerr << "gengap-train: failed: " << gengap::core::printable(m, 400) << '\n';
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gengap-train: failed: " << gengap::core::printable(e.what(), 400) << '\n';
    return 1;
  }
}
