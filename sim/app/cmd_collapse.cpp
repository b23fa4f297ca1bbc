// gengap-sim collapse: do runs at different T and s collapse on T ln t / s? (JSON of walk or exact)
#include <cmath>
#include <iomanip>
#include <iostream>

#include "commands.hpp"
#include "gengap/core/io.hpp"
#include "gengap/core/json.hpp"

namespace gengap::sim::app {
namespace {
using nlohmann::json;

struct CollapseParams {
  std::vector<std::string> files;
  double x_min = 0;
  std::string json_out;
  std::vector<CollapseInput> inputs;  // parsed by validate()
};

void validate(CollapseParams& p) {
  require(p.files.size() >= 2, "files", p.files.size(), "must name at least two result files");
  require(std::isfinite(p.x_min), "x_min", p.x_min, "must be finite");
  p.inputs.clear();
  for (const std::string& file : p.files) p.inputs.push_back(parse_collapse_input(core::read_file(file, "files", std::uint64_t{1} << 30), file));
  core::check_output_file("json", p.json_out);
}

int run(const CollapseParams& p) {
  std::vector<Curve> scaled, raw;
  json runs = json::array();
  for (std::size_t f = 0; f < p.files.size(); ++f) {
    const std::string& file = p.files[f];
    const CollapseInput& in = p.inputs[f];
    Curve a, b;
    for (std::size_t i = 0; i < in.times.size(); ++i) {
      const double x = in.temperature * std::log(in.times[i]) / in.sigma;
      if (in.times[i] <= 1 || !(in.msd[i] > 0) || x < p.x_min) continue;
      a.x.push_back(x);
      a.y.push_back(in.msd[i]);
      b.x.push_back(std::log(in.times[i]));
      b.y.push_back(in.msd[i]);
    }
    require(a.x.size() >= 2, "files", file, "has fewer than 2 times with T ln t / s >= x_min and <x^2> > 0");
    scaled.push_back(a);
    raw.push_back(b);
    runs.push_back({{"file", file}, {"temperature", in.temperature}, {"sigma", in.sigma}, {"points", a.x.size()}});
  }
  const Overlap on = curve_overlap(scaled), off = curve_overlap(raw);
  const json j = {{"what", "spread (mean coefficient of variation across runs) of <x^2> against T ln t / s, and against ln t"},
                  {"runs", runs},
                  {"spread", on.spread},
                  {"x_lo", on.x_lo},
                  {"x_hi", on.x_hi},
                  {"spread_against_ln_t", off.spread}};
  emit(p.json_out, j.dump(2) + "\n");
  std::cerr << "collapse: spread " << std::setprecision(3) << on.spread << " against T ln t / s on [" << on.x_lo << ", " << on.x_hi
            << "], " << off.spread << " against ln t\n";
  return 0;
}

}  // namespace

CollapseInput parse_collapse_input(const std::string& text, const std::string& file) {
  const json j = core::parse_json(text, file);
  const std::string in = "in " + file;
  require(j.is_object(), "files", file, "expected the JSON object of gengap-sim walk or exact");
  auto field = [&](const json& obj, const char* key, const std::string& path) -> const json& {
    if (!obj.is_object() || !obj.contains(key))
      throw InvalidArgument(path, "(missing)", "required " + in + "; expected the JSON of gengap-sim walk or exact");
    return obj.at(key);
  };
  const json& params = field(j, "parameters", "parameters");
  CollapseInput c;
  c.temperature = core::json_as<double>(field(params, "temperature", "parameters.temperature"), "parameters.temperature", in);
  c.sigma = core::json_as<double>(field(field(params, "potential", "parameters.potential"), "sigma", "parameters.potential.sigma"),
                                  "parameters.potential.sigma", in);
  require(c.temperature > 0, "parameters.temperature", c.temperature, "must be > 0 " + in);
  require(c.sigma > 0, "parameters.potential.sigma", c.sigma, "must be > 0 " + in);
  c.times = core::json_as<std::vector<double>>(field(j, "times", "times"), "times", in);
  c.msd = core::json_as<std::vector<double>>(field(j, "msd", "msd"), "msd", in);
  require(c.msd.size() == c.times.size(), "msd", std::to_string(c.msd.size()) + " values",
          "must have one value per time (" + std::to_string(c.times.size()) + " times) " + in);
  for (std::size_t i = 0; i < c.times.size(); ++i) {
    require(c.times[i] > 0 && (i == 0 || c.times[i] > c.times[i - 1]), "times", c.times[i], "must be > 0 and increasing " + in);
    require(c.msd[i] >= 0, "msd", c.msd[i], "must be >= 0 " + in);
  }
  return c;
}

Command collapse_command() {
  return {"collapse", "do runs at different T and s collapse on T ln t / s? (JSON of walk or exact)", [](cli::Options& o) {
            auto p = std::make_shared<CollapseParams>();
            o.add("files", "", p->files, "JSON results of gengap-sim walk or exact (two or more; different s or T)")->required();
            o.add("--x-min", "x_min", p->x_min, "compare only where T ln t / s >= this (the asymptotic part)");
            o.add("--json", "json", p->json_out, "write the result as JSON here (default: stdout)");
            return Action{[p] { validate(*p); }, [p] { return run(*p); }, {}, {}, {}, {}};  // reads files: no compute
          }};
}

}  // namespace gengap::sim::app
