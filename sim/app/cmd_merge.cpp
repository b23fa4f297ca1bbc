// gengap-sim merge: the shards of one run (walk, exact, valley or lattice with --shard I/N) joined
// into the JSON and CSV the unsharded run writes.
#include <iostream>

#include "commands.hpp"
#include "gengap/core/io.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct MergeParams {
  std::vector<std::string> files;
  std::string json_out, csv_out;
  bool quiet = false;
  // Set by validate(): the checked shards and their command, bound to the run's options.
  std::shared_ptr<ShardSet> set;
  std::unique_ptr<CLI::App> app;
  std::unique_ptr<cli::Options> opts;
  Action action;
};

void validate(MergeParams& p) {
  require(!p.files.empty(), "shards", 0, "name the shard files of one run");
  p.set = std::make_shared<ShardSet>(read_shards(p.files));
  for (const Command& c : commands()) {
    if (p.set->command != c.name) continue;
    p.app = std::make_unique<CLI::App>();
    p.opts = std::make_unique<cli::Options>(p.app.get());
    p.action = c.setup(*p.opts);
  }
  if (!p.opts || !p.action.merge_run)
    throw InvalidArgument(p.set->names.front() + ": command", p.set->command, "is not a command that shards (walk, exact, valley, lattice)");
  json run = p.set->run;
  run["json"] = p.json_out;
  if (p.opts->values().contains("csv")) run["csv"] = p.csv_out;
  else require(p.csv_out.empty(), "csv", p.csv_out, "gengap-sim " + p.set->command + " writes no CSV");
  if (p.opts->values().contains("quiet")) run["quiet"] = p.quiet;
  p.opts->apply_json(run, p.set->names.front() + ": run");
  p.action.validate();  // the run's own checks, its outputs included
  const std::string first = p.set->builds.front();
  for (std::size_t k = 1; k < p.set->builds.size(); ++k)
    if (p.set->builds[k] != first && !p.quiet)
      std::cerr << "merge: note: " << p.set->names[k] << " was computed by a build for " << p.set->builds[k] << ", "
                << p.set->names.front() << " by one for " << first
                << "; the exact solver's last bits can differ between builds (the walkers' cannot)\n";
}

}  // namespace

Command merge_command() {
  return {"merge", "join the shard files of one run (--shard I/N) into the run's JSON and CSV, bitwise", [](cli::Options& o) {
            auto p = std::make_shared<MergeParams>();
            o.add("shards", "", p->files, "the shard files of one run, every shard exactly once, in any order")->required();
            o.add("--json", "json", p->json_out, "write the run's JSON here (default: stdout)");
            o.add("--csv", "csv", p->csv_out, "write the run's CSV here (as the unsharded run's --csv)");
            o.flag("-q,--quiet", "quiet", p->quiet, "no notes on stderr");
            return Action{[p] { validate(*p); }, [p] { return p->action.merge_run(*p->set); }, {}, {}, {}, {}};
          }};
}

}  // namespace gengap::sim::app
