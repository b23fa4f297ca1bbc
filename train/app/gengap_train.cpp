// gengap-train: train one of the paper's models with its large-batch techniques, from flags or JSON.
#include <fstream>
#include <iostream>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "cli_util.hpp"
#include "gengap/train/data.hpp"
#include "gengap/train/trainer.hpp"

int main(int argc, char** argv) {
  using gengap::train::TrainConfig;
  CLI::App app{"gengap-train: large-batch training with ghost batch norm, lr scaling and regime adaptation (Hoffer et al. 2017)"};
  TrainConfig c;
  std::string config;
  app.set_version_flag("--version", "gengap-train 0.1.0");
  app.add_option("--config", config, "JSON file with config fields (flags override it)");
  app.add_option("-m,--model", c.model, "f1 | c1 | c3 | resnet44 (resnetN) | vgg | wresnet16-4")->capture_default_str();
  app.add_option("-d,--dataset", c.dataset, "fashion-mnist | mnist | cifar10 | cifar100 | synthetic | synthetic-cifar")->capture_default_str();
  app.add_option("--data-dir", c.data_dir, "folder of the data files")->capture_default_str();
  app.add_option("-b,--batch-size", c.batch_size, "samples per update (B)")->capture_default_str();
  app.add_option("-g,--ghost-batch-size", c.ghost_batch_size, "small batch B_s: GBN ghost size, lr scaling and adaptation")->capture_default_str();
  app.add_option("--norm", c.norm, "bn | gbn | none")->capture_default_str();
  app.add_option("--lr-scaling", c.lr_scaling, "none | sqrt (the paper) | linear (Goyal et al., with warm-up)")->capture_default_str();
  app.add_option("--warmup-epochs", c.warmup_epochs, "warm-up epochs of linear scaling")->capture_default_str();
  app.add_flag("--regime-adaptation,!--no-regime-adaptation", c.regime_adaptation, "multiply epochs and milestones by ceil(B/B_s)");
  app.add_option("--regime-scale", c.regime_scale, "multiply the regime's epoch keys and length (before adaptation)")
      ->capture_default_str();
  app.add_option("-e,--epochs", c.epochs, "epochs (0 = the regime's length)")->capture_default_str();
  app.add_option("--max-iterations", c.max_iterations, "stop after this many updates (0 = no limit)")->capture_default_str();
  app.add_option("--lr", c.lr, "first-phase learning rate (0 = the authors')")->capture_default_str();
  app.add_flag("--nesterov,!--no-nesterov", c.nesterov, "Nesterov momentum");
  app.add_option("--clip-norm", c.clip_norm, "gradient-norm clipping (0 = off)")->capture_default_str();
  app.add_option("-s,--seed", c.seed, "seed")->capture_default_str();
  app.add_option("--device", c.device, "auto | cpu | cuda | cuda:N")->capture_default_str();
  app.add_option("-o,--out-dir", c.out_dir, "output folder")->capture_default_str();
  app.add_option("--train-subset", c.train_subset, "use the first N training samples (0 = all)")->capture_default_str();
  app.add_option("--test-subset", c.test_subset, "use the first N test samples (0 = all)")->capture_default_str();
  app.add_option("--synthetic-size", c.synthetic_size, "training samples of the synthetic set")->capture_default_str();
  app.add_option("--synthetic-noise", c.synthetic_noise, "noise std of the synthetic sets (patterns have std 1)")->capture_default_str();
  app.add_option("--distance-per-decade", c.distance_per_decade, "distance records per decade after t = 100")->capture_default_str();
  app.add_option("--probe-size", c.probe_size, "samples in the fixed batch for L(w_t) - L(w_0)")->capture_default_str();
  app.add_flag("--augment,!--no-augment", c.augment, "CIFAR crop + flip");
  app.add_flag("--resume,!--no-resume", c.resume, "continue from out_dir/checkpoint.pt");
  app.add_flag("--progress,!--no-progress", c.progress, "progress on stderr");
  try {
    const std::string cfg_file = gengap::cli::find_config(argc, argv);
    if (!cfg_file.empty()) {
      std::ifstream in(cfg_file);
      if (!in) throw std::invalid_argument("config = " + cfg_file + ": cannot open the file");
      nlohmann::json j;
      try {
        j = nlohmann::json::parse(in);
      } catch (const nlohmann::json::parse_error& e) {
        throw std::invalid_argument("config = " + cfg_file + ": malformed JSON (" + std::string(e.what()) + ")");
      }
      gengap::train::from_json(j, c);
    }
    app.parse(argc, argv);
    const auto s = gengap::train::train(c);
    std::cout << "test accuracy " << 100 * s.test_accuracy << "% after " << s.iterations << " iterations (" << s.epochs
              << " epochs) on " << s.device << "; ||w - w0|| = " << s.final_distance << "; results in " << c.out_dir << '\n';
    return 0;
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "gengap-train: error: " << e.what() << " (see --help)\n";
    return 2;
  } catch (const std::invalid_argument& e) {
    std::cerr << "gengap-train: error: " << e.what() << '\n';
    return 2;
  } catch (const gengap::train::DataError& e) {
    std::cerr << "gengap-train: error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gengap-train: failed: " << e.what() << '\n';
    return 1;
  }
}
