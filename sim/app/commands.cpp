// The table of gengap-sim's subcommands, their shared options, and main().
#include "commands.hpp"

#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include "gengap/core/io.hpp"

namespace gengap::sim::app {

const std::vector<Command>& commands() {
  static const std::vector<Command> all{walk_command(),    valley_command(), fit_command(),  sgd_command(), exact_command(),
                                        lattice_command(), merge_command(),  collapse_command(), power_command()};
  return all;
}

void add_potential_options(cli::Options& opts, PotentialParams& p) {
  opts.add("--potential", "potential", p.potential, "sinai-gaussian | sinai-binary | fbm | flat");
  opts.add("--alpha", "alpha", p.alpha, "structure-function exponent in (0,2) (fbm; Sinai is 1)");
  opts.add("--sigma", "sigma", p.sigma, "standard deviation of one increment V(x+1)-V(x)");
}

std::unique_ptr<Potential> potential_of(const PotentialParams& p) { return make_potential(p.potential, p.alpha, p.sigma); }

nlohmann::json matrix_rows(const Eigen::MatrixXd& m) {
  nlohmann::json rows = nlohmann::json::array();
  for (Eigen::Index i = 0; i < m.rows(); ++i) {
    std::vector<double> row(static_cast<std::size_t>(m.cols()));
    for (Eigen::Index c = 0; c < m.cols(); ++c) row[static_cast<std::size_t>(c)] = m(i, c);
    rows.push_back(std::move(row));
  }
  return rows;
}

void emit(const std::string& path, const std::string& text) {
  if (path.empty()) {
    std::cout << text;
  } else {
    core::write_file_atomic(path, text);
  }
}

nlohmann::json resolve_config(const std::string& name, const nlohmann::json& config, const std::string& where) {
  for (const Command& c : commands()) {
    if (name != c.name) continue;
    CLI::App app;
    cli::Options opts(&app);
    const Action a = c.setup(opts);
    opts.apply_json(config, where);
    a.validate();
    return opts.values();
  }
  throw InvalidArgument("command", name, "no such gengap-sim command");
}

void check_config(const std::string& name, const nlohmann::json& config, const std::string& where) {
  (void)resolve_config(name, config, where);
}

nlohmann::json compute_command(const std::string& name, const nlohmann::json& config, const std::string& where,
                               const RunHooks& hooks) {
  for (const Command& c : commands()) {
    if (name != c.name) continue;
    CLI::App app;
    cli::Options opts(&app);
    const Action a = c.setup(opts);
    if (!a.compute) throw InvalidArgument("command", name, "computes nothing in-process (it reads files)");
    opts.apply_json(config, where);
    a.validate();
    return a.compute(hooks);
  }
  throw InvalidArgument("command", name, "no such gengap-sim command");
}

nlohmann::json run_identity(const cli::Options& opts) {
  nlohmann::json run = opts.values();
  for (auto it = run.begin(); it != run.end();) {
    if (is_run_setting(it.key()))
      it = run.erase(it);
    else
      ++it;
  }
  return run;
}

void check_shard_request(const ShardSpec& spec, std::uint64_t items, const std::string& items_name, const std::string& csv_out) {
  if (!spec.active()) return;
  require_shardable(spec, items, items_name);
  if (!csv_out.empty())
    throw InvalidArgument("csv", csv_out, "a shard writes only its shard file (--json); gengap-sim merge writes the run's CSV");
}

void require_shard_ranges(const ShardSet& set, std::uint32_t items, const std::string& items_name) {
  for (std::uint32_t k = 0; k < set.count; ++k) {
    const auto want = shard_range(ShardSpec{k, set.count}, items);
    if (set.ranges[k] != want)
      throw InvalidArgument(set.names[k] + ": shard.begin/end",
                            "[" + std::to_string(set.ranges[k].first) + ", " + std::to_string(set.ranges[k].second) + ")",
                            "expected " + items_name + " [" + std::to_string(want.first) + ", " + std::to_string(want.second) + ") for shard " +
                                std::to_string(k) + "/" + std::to_string(set.count) + " of " + std::to_string(items));
  }
}

namespace {
/// The command `name` with its options bound (`app` must outlive the result).
struct Bound {
  std::unique_ptr<CLI::App> app = std::make_unique<CLI::App>();
  std::unique_ptr<cli::Options> opts;
  Action action;
};

Bound bind(const std::string& name) {
  for (const Command& c : commands()) {
    if (name != c.name) continue;
    Bound b;
    b.opts = std::make_unique<cli::Options>(b.app.get());
    b.action = c.setup(*b.opts);
    return b;
  }
  throw InvalidArgument("command", name, "no such gengap-sim command");
}
}  // namespace

nlohmann::json compute_shard(const std::string& name, const nlohmann::json& config, const std::string& where, const RunHooks& hooks) {
  Bound b = bind(name);
  if (!b.action.shard) throw InvalidArgument("command", name, "does not shard (walk, exact, valley and lattice do)");
  b.opts->apply_json(config, where);
  b.action.validate();
  const nlohmann::json values = b.opts->values();
  const ShardSpec spec = parse_shard(values.value("shard", std::string()));
  if (!spec.active()) throw InvalidArgument("shard", "(none)", "name the shard to compute as I/N");
  ShardData d = b.action.shard(hooks);
  return shard_document(name, run_identity(*b.opts), spec, d.begin, d.end, std::move(d.data));
}

nlohmann::json merge_shards(const std::vector<std::pair<std::string, nlohmann::json>>& docs, const RunHooks& hooks) {
  const ShardSet set = check_shards(docs);
  Bound b = bind(set.command);
  if (!b.action.merge) throw InvalidArgument("command", set.command, "does not shard");
  b.opts->apply_json(set.run, set.names.front() + ": run");
  b.action.validate();
  return b.action.merge(set, hooks);
}

nlohmann::json describe_config(const std::string& name) {
  for (const Command& c : commands()) {
    if (name != c.name) continue;
    CLI::App app;
    cli::Options opts(&app);
    const Action a = c.setup(opts);  // holds the variables the options are bound to
    return opts.describe();
  }
  throw InvalidArgument("command", name, "no such gengap-sim command");
}

int main_with(int argc, char** argv) {
  cli::prepare_process();
  // --check (anywhere): validate every input, output and memory estimate, then stop without running.
  std::vector<char*> args(argv, argv + argc);
  const auto check_it = std::find_if(args.begin() + 1, args.end(), [](const char* a) { return std::string(a) == "--check"; });
  const bool check_only = check_it != args.end();
  if (check_only) args.erase(check_it);
  argc = static_cast<int>(args.size());
  argv = args.data();
  CLI::App app{"gengap-sim: random walks on random potentials (Sinai, fractional Brownian), exact theory and fits"};
  app.footer("Any command with --check validates every input, output and memory estimate and exits (0 when all is well) without running.");
  app.require_subcommand(1);
  app.set_version_flag("--version", kProgramVersion);
  struct Entry {
    CLI::App* sub;
    std::unique_ptr<cli::Options> opts;
    Action action;
  };
  std::vector<Entry> entries;
  for (const Command& c : commands()) {
    CLI::App* sub = app.add_subcommand(c.name, c.description);
    auto opts = std::make_unique<cli::Options>(sub);
    Action a = c.setup(*opts);
    entries.push_back({sub, std::move(opts), std::move(a)});
  }
  try {
    // An unknown command: named, with the known ones (CLI11 would only say an argument was not expected).
    if (argc > 1 && argv[1][0] != '-') {
      bool known = false;
      std::string names;
      for (const auto& e : entries) {
        known = known || e.sub->get_name() == argv[1];
        names += (names.empty() ? "" : ", ") + e.sub->get_name();
      }
      if (!known) throw core::InvalidArgument("command", core::printable(argv[1], 60), "unknown command (known: " + names + ")");
    }
    // The config first, so that flags given on the command line override it.
    const std::string cfg_file = cli::find_config(argc, argv);
    if (!cfg_file.empty() && argc > 1)
      for (auto& e : entries)
        if (e.sub->get_name() == argv[1]) e.opts->apply_config_file(cfg_file);
    app.parse(argc, argv);
    for (auto& e : entries) {
      if (!e.sub->parsed()) continue;
      e.action.validate();  // every input, output and memory estimate, before any work
      if (check_only) {
        std::cerr << "gengap-sim " << e.sub->get_name() << ": the inputs check out (--check: nothing was run)\n";
        return 0;
      }
      const nlohmann::json values = e.opts->values();
      if (e.action.shard && !values.value("shard", std::string()).empty()) {
        // A shard: its raw results, as a shard file, for gengap-sim merge.
        const ShardSpec spec = parse_shard(values["shard"].get<std::string>());
        const std::string name = e.sub->get_name();
        cli::Progress progress(name + " shard " + spec.text());
        RunHooks hooks;
        if (!values.value("quiet", false)) hooks.progress = [&progress](double f) { progress(f); };
        ShardData d = e.action.shard(hooks);
        progress.done();
        const nlohmann::json doc = shard_document(name, run_identity(*e.opts), spec, d.begin, d.end, std::move(d.data));
        const std::string out = values.value("json", std::string());
        emit(out, doc.dump() + "\n");
        std::cerr << "gengap-sim " << name << ": shard " << spec.text() << " (environments [" << d.begin << ", " << d.end << ")) written to "
                  << (out.empty() ? std::string("stdout") : out) << "; join the shards with gengap-sim merge\n";
        if (!cli::stdout_ok()) {
          std::cerr << "gengap-sim: failed: standard output could not be written (full disk, or closed); the results sent there are lost\n";
          return 1;
        }
        return 0;
      }
      const int rc = e.action.run();
      if (!cli::stdout_ok()) {
        std::cerr << "gengap-sim: failed: standard output could not be written (full disk, or closed); the results sent there are lost\n";
        return 1;
      }
      return rc;
    }
  } catch (const CLI::ParseError& e) {
    if (e.get_exit_code() == 0) return app.exit(e);  // --help, --version
    std::cerr << "gengap-sim: error: " << core::printable(e.what(), 400) << " (see --help)\n";
    return 2;
  } catch (const core::InputError& e) {
    std::cerr << "gengap-sim: error: " << e.what() << '\n';
    return 2;
  } catch (const std::bad_alloc&) {
    std::cerr << "gengap-sim: failed: out of memory (the request's estimate was below this machine's memory, but "
                 "allocation failed; lower the sizes)\n";
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "gengap-sim: failed: " << core::printable(e.what(), 400) << '\n';
    return 1;
  }
  return 0;
}

}  // namespace gengap::sim::app
