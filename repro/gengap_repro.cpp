// gengap-repro: runs the reproduction's experiments (configs under repro/configs), keeps finished
// results, and writes the verdict table (summary.md) and the data the figure scripts plot.
#include <unistd.h>

#include <cctype>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <csignal>
#include <cstdio>

#include <CLI/CLI.hpp>
#include <nlohmann/json.hpp>

#include "gengap/core/blas.hpp"
#include "gengap/core/memory.hpp"
#include "cli.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"
#include "gengap/repro/experiment.hpp"
#include "gengap/repro/verdicts.hpp"
#include "gengap/sim/error.hpp"

namespace {

namespace fs = std::filesystem;
namespace sim = gengap::sim;
namespace repro = gengap::repro;
using nlohmann::json;
using sim::InvalidArgument;
using sim::require;

/// The experiment's fields with the profile's merged over them (JSON merge patch: nested objects
/// merge, arrays and values replace).
json resolve(const json& cfg, const std::string& profile, const std::string& file) {
  if (!cfg.is_object()) throw InvalidArgument("config", file, "must hold a JSON object");
  if (!cfg.contains("profiles") || !cfg["profiles"].is_object() || !cfg["profiles"].contains(profile))
    throw InvalidArgument("profile", profile, "not defined in " + file + " (its \"profiles\" object has no such key)");
  if (!cfg["profiles"][profile].is_object()) throw InvalidArgument("profiles." + profile, gengap::core::json_excerpt(cfg["profiles"][profile]), "must be an object in " + file);
  json out = cfg;
  out.erase("profiles");
  out.merge_patch(cfg["profiles"][profile]);
  out["profile"] = profile;
  return out;
}

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

}  // namespace

int main(int argc, char** argv) {
  gengap::core::prefer_avx2_blas(argv);  // OpenBLAS's AVX2 kernels where it fell back to generic ones (may re-execute)
  gengap::core::keep_freed_memory();  // reuse freed tensors' memory (no page-fault storm per step)
  std::signal(SIGXFSZ, SIG_IGN);      // a write beyond ulimit -f fails (and is reported), not a kill leaving a .tmp file
  // A worker process of --jobs (started by this program, not by hand): trains one run and exits.
  if (argc == 3 && std::string(argv[1]) == "--train-worker") return repro::train_worker(argv[2]);
  CLI::App app{"gengap-repro: run the reproduction's experiments and write the verdict table"};
  std::string profile = "default", out_dir = "repro-out", summary_path, data_root;
  std::vector<std::string> configs;
  bool force = false;
  int jobs = 0;
  app.add_option("--profile", profile, "quick | default | paper")->capture_default_str();
  app.add_option("--out", out_dir, "folder for results (JSON, CSV) and summary.md")->capture_default_str();
  app.add_option("--summary", summary_path, "also copy summary.md here");
  app.add_option("--data-root", data_root, "folder holding cifar-10-batches-bin/ and cifar-100-binary/ (CIFAR experiments)");
  app.add_option("configs", configs, "experiment configs (JSON)")->required();
  app.add_flag("--force", force, "rerun finished experiments");
  bool check_only = false;
  app.add_flag("--check", check_only, "check every config (every field, data, memory) and the output paths, then exit without running");
  app.add_option("--jobs", jobs,
                 "training runs at once, each in a worker process with cores/jobs threads (0 = one per core on a CPU, "
                 "1 on a GPU; 1 = one after the other in this process)")
      ->capture_default_str()
      ->check(gengap::cli::integer<int>());  // no "" read as 0, no octal 010
  try {
    app.parse(argc, argv);
    require(profile == "quick" || profile == "default" || profile == "paper", "profile", profile, "expected quick, default or paper");
    require(jobs >= 0 && jobs <= 1024, "jobs", std::to_string(jobs), "expected 0 (auto) to 1024");
    if (jobs == 0) jobs = repro::auto_jobs();
    const std::uint64_t code = repro::fnv1a(repro::read_text("/proc/self/exe"));
    // Read, resolve and check every config first (every field, unknown keys, sizes and memory, the
    // training configs): a typo in the last one must not cost the first one's run.
    struct Exp {
      json config;
      std::string file, name, kind;
      bool enabled;
      double expected;
      std::string cannot_run;  // why the check found it cannot run here (e.g. its data set is missing)
    };
    std::vector<Exp> exps;
    for (const auto& file : configs) {
      const json c = resolve(gengap::core::read_json_file(file, "config"), profile, file);
      const std::string in = "in " + file;
      if (!c.contains("kind")) throw InvalidArgument("kind", "(missing)", "required field " + in);
      const std::string kind = gengap::core::json_as<std::string>(c["kind"], "kind", in);
      const bool enabled = c.contains("enabled") ? gengap::core::json_as<bool>(c["enabled"], "enabled", in) : true;
      const double expected = c.contains("expected_seconds") ? gengap::core::json_as<double>(c["expected_seconds"], "expected_seconds", in) : 60.0;
      const repro::ExperimentKind& k = repro::experiment_kind(kind, file);
      const std::string name = fs::path(file).stem().string();
      for (const auto& other : exps)
        if (other.name == name)
          throw InvalidArgument("configs", file, "has the same file name as " + other.file + " (both would write " + (fs::path(out_dir) / name).string() +
                                                     "); rename one");
      std::string cannot_run;
      try {
        // A disabled experiment's fields are checked too: a typo must not wait for the profile that runs it.
        k.check(repro::Context{c, file, name, fs::path(out_dir) / name, "", data_root});
      } catch (const repro::Skipped& s) {
        cannot_run = s.what();  // listed as skipped, with its reason, when its turn comes
      }
      exps.push_back({c, file, name, kind, enabled, expected, cannot_run});
    }
    gengap::core::check_output_file("summary", summary_path);
    if (check_only) {
      gengap::core::check_output_file("out", (fs::path(out_dir) / "summary.md").string());  // creates nothing
      std::cerr << "gengap-repro: " << exps.size() << " config(s) check out (--check: nothing was run)\n";
      return 0;
    }
    gengap::core::check_output_dir("out", out_dir);
    // One pipeline per output folder: a second one would delete and retrain the first one's runs.
    const repro::FolderLock lock(out_dir);
    std::vector<json> verdicts;
    std::vector<std::pair<std::string, double>> timings;
    std::vector<std::pair<std::string, std::string>> skipped;
    std::ostringstream sections;
    const auto t_start = std::chrono::steady_clock::now();
    for (std::size_t i = 0; i < exps.size(); ++i) {
      const Exp& e = exps[i];
      const std::string tag = "[" + std::to_string(i + 1) + "/" + std::to_string(exps.size()) + "] " + e.name;
      if (!e.enabled || !e.cannot_run.empty()) {
        const std::string why = !e.cannot_run.empty() ? e.cannot_run : e.config.value("reason", std::string("disabled in the ") + profile + " profile");
        std::cerr << tag << ": skipped (" << why << ")\n";
        skipped.emplace_back(e.name, why);
        continue;
      }
      repro::Context x{e.config, e.file, e.name, fs::path(out_dir) / e.name, "", data_root, jobs};
      x.hash = repro::hex64(repro::fnv1a(e.config.dump() + "|data_root=" + data_root, code));
      const fs::path result = x.dir / "result.json";
      json res;
      if (!force && fs::exists(result)) {
        try {
          res = json::parse(repro::read_text(result));
        } catch (const std::exception&) {
          res = json();
        }
      }
      if (res.is_object() && res.value("hash", "") == x.hash) {
        std::cerr << tag << ": up to date (" << x.hash << ")\n";
        timings.emplace_back(e.name + " (reused; measured " + std::to_string(static_cast<long>(res.value("seconds", 0.0))) + " s)", 0.0);
      } else {
        double left = 0;
        for (std::size_t k = i; k < exps.size(); ++k)
          if (exps[k].enabled) left += exps[k].expected;
        std::cerr << tag << " (" << profile << " profile; " << std::fixed << std::setprecision(0) << seconds_since(t_start)
                  << " s so far; about " << left << " s left by the configs' estimates)\n" << std::defaultfloat;
        fs::create_directories(x.dir);
        const auto t0 = std::chrono::steady_clock::now();
        try {
          res = repro::experiment_kind(e.kind, e.file).run(x);
        } catch (const repro::Skipped& s) {
          std::cerr << tag << ": skipped (" << s.what() << ")\n";
          skipped.emplace_back(e.name, s.what());
          continue;
        }
        res["hash"] = x.hash;
        res["config"] = e.config;
        res["seconds"] = seconds_since(t0);
        timings.emplace_back(e.name, res["seconds"].get<double>());
        gengap::core::write_file_atomic(result.string(), res.dump(2) + "\n");
      }
      for (const auto& v : res["verdicts"]) verdicts.push_back(v);
      if (res.contains("skipped"))
        for (const auto& s : res["skipped"]) skipped.emplace_back(e.name + " (" + s.value("network", std::string()) + ")", s.value("reason", std::string()));
      if (res.contains("markdown")) sections << "\n" << res["markdown"].get<std::string>();
    }
    // The verdict table.
    std::ostringstream md;
    int n_supported = 0, n_falsified = 0, n_undecided = 0;
    md << "# gengap reproduction: verdicts (" << profile << " profile)\n\n"
       << (profile == "quick"
               ? "**Quick profile: this run checks the pipeline's mechanics only.** Its ensembles, windows, seeds and training "
                 "runs are far too small to decide anything about the paper or the theory: read none of the verdicts below as "
                 "evidence (the default and paper profiles are the reproduction; their summaries are in paper_figures/).\n\n"
           : profile == "default"
               ? "Default profile: the simulations at full size; the networks downscaled to fit 2 CPU cores in under an hour "
                 "(Table 1 at a tenth of the authors' regime, 2 seeds; F1's weight distances over a shortened first phase). "
                 "The paper profile runs F1 at the authors' settings (paper_figures/paper/).\n\n"
               : "Paper profile: F1 at the authors' settings (regime scale 1, the authors' lr, momentum, weight decay and "
                 "clipping; 4-5 seeds).\n\n")
       << "Each claim is decided by a rule fixed in its config (repro/configs) before the run: SUPPORTED, FALSIFIED or "
          "UNDECIDED (an honest result, never a pass). The docs page *How the reproduction decides* states every rule.\n\n"
       << "| experiment | claim | expected | measured | rule | verdict | reason |\n|---|---|---|---|---|---|---|\n";
    for (const auto& v : verdicts) {
      const std::string outcome = v["verdict"].get<std::string>();
      n_supported += outcome == "supported";
      n_falsified += outcome == "falsified";
      n_undecided += outcome == "undecided";
      std::string shown = outcome;
      for (auto& ch : shown) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
      md << "| " << v["experiment"].get<std::string>() << " | " << v["claim"].get<std::string>() << " | " << v["expected"].get<std::string>()
         << " | " << v["measured"].get<std::string>() << " | " << v["rule"].get<std::string>() << " | **" << shown << "** | "
         << v["reason"].get<std::string>() << " |\n";
    }
    md << "\n" << n_supported << " supported, " << n_falsified << " falsified, " << n_undecided << " undecided\n";
    // Plainly: where this run contradicts the paper or the theory, and what it could not decide.
    md << "\n## What this run says\n\n";
    for (const char* outcome : {"falsified", "undecided", "supported"}) {
      const std::string head = std::string(outcome) == "falsified"   ? "Contradicts the paper or the theory (falsified):"
                               : std::string(outcome) == "undecided" ? "Could not decide (undecided):"
                                                                     : "Agrees (supported):";
      bool any = false;
      for (const auto& v : verdicts) {
        if (v["verdict"].get<std::string>() != outcome) continue;
        if (!any) md << "- " << head << "\n";
        any = true;
        md << "  - " << v["experiment"].get<std::string>() << ": " << v["claim"].get<std::string>() << " — " << v["reason"].get<std::string>() << ".\n";
      }
    }
    md << "\nWall time per experiment (this invocation; reused experiments cost nothing):\n\n| experiment | seconds |\n|---|---|\n";
    for (const auto& [name, secs] : timings) md << "| " << name << " | " << std::fixed << std::setprecision(0) << secs << std::defaultfloat << " |\n";
    if (!skipped.empty()) {
      md << "\nSkipped:\n\n";
      for (const auto& [n, why] : skipped) md << "- " << n << ": " << why << "\n";
    }
    md << sections.str();
    gengap::core::write_file_atomic((fs::path(out_dir) / "summary.md").string(), md.str());
    json all = json::array();
    for (const auto& v : verdicts) all.push_back(v);
    gengap::core::write_file_atomic((fs::path(out_dir) / "verdicts.json").string(), all.dump(2) + "\n");
    if (!summary_path.empty()) gengap::core::write_file_atomic(summary_path, md.str());
    // The summary is in the file; standard output gets the count and where to read it.
    std::cout << profile << " profile: " << n_supported << " supported, " << n_falsified << " falsified, " << n_undecided
              << " undecided; the verdict table and every section: " << (fs::path(out_dir) / "summary.md").string() << "\n";
    std::cout.flush();
    if (!std::cout || std::fflush(stdout) != 0) {
      std::cerr << "gengap-repro: failed: standard output could not be written (the results are in " << out_dir << ")\n";
      return 1;
    }
    std::cerr << "gengap-repro: " << std::fixed << std::setprecision(0) << seconds_since(t_start) << " s\n";
    return 0;  // FAILs are results, not errors
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);
    std::cerr << "gengap-repro: error: " << e.what() << '\n';
    return 2;
  } catch (const gengap::core::InputError& e) {  // any config field, named in the message
    std::cerr << "gengap-repro: error: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "gengap-repro: failed: " << gengap::core::printable(e.what(), 400) << '\n';
    return 1;
  }
}
