// gengap._sim: the library's functions on numpy arrays: fits and model comparison, the log-time
// decision, curve overlap, the theory (Kesten, exponents, sigma^2, first passage, valley bottoms),
// sampled landscapes, lattice fields, the random Fourier field and the SGD / Langevin runner.
#include <cmath>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include "commands.hpp"
#include "convert.hpp"
#include "gengap/sim.hpp"
#include "sim_module.hpp"

namespace gengap::python {

namespace {

using sim::require;

/// A 1-D array of finite doubles named `field`.
std::vector<double> finite_vector(const py::array_t<double, py::array::c_style | py::array::forcecast>& a, const char* field) {
  require(a.ndim() == 1, field, "an array of " + std::to_string(a.ndim()) + " dimensions", "must be 1-dimensional");
  std::vector<double> v(a.data(), a.data() + a.size());
  for (std::size_t i = 0; i < v.size(); ++i)
    require(std::isfinite(v[i]), std::string(field) + "[" + std::to_string(i) + "]", v[i], "must be finite");
  return v;
}

/// A 2-D array of finite doubles (rows = samples) named `field`, with `cols` columns.
Eigen::MatrixXd finite_matrix(const py::array_t<double, py::array::c_style | py::array::forcecast>& a, const char* field,
                              std::size_t cols) {
  require(a.ndim() == 2, field, "an array of " + std::to_string(a.ndim()) + " dimensions", "must be 2-dimensional (row = sample)");
  require(static_cast<std::size_t>(a.shape(1)) == cols, field, std::to_string(a.shape(1)) + " columns",
          "must have one column per time (" + std::to_string(cols) + ")");
  Eigen::MatrixXd m(a.shape(0), a.shape(1));
  for (py::ssize_t r = 0; r < a.shape(0); ++r)
    for (py::ssize_t c = 0; c < a.shape(1); ++c) {
      const double x = a.at(r, c);
      require(std::isfinite(x), std::string(field) + "[" + std::to_string(r) + ", " + std::to_string(c) + "]", x, "must be finite");
      m(r, c) = x;
    }
  return m;
}

/// The environment's landscape of a named potential on [-half_width, half_width].
py::dict landscape(const std::string& potential, double alpha, double sigma, std::uint64_t seed, std::uint64_t env,
                   std::int64_t half_width) {
  const auto pot = sim::make_potential(potential, alpha, sigma);
  require(half_width >= 1 && half_width <= (std::int64_t{1} << 26), "half_width", half_width, "must be in [1, 2^26]");
  sim::Landscape land;
  {
    py::gil_scoped_release nogil;
    land = pot->sample(seed, env, half_width);
  }
  py::array_t<std::int64_t> x(land.size());
  for (std::int64_t i = 0; i < land.size(); ++i) x.mutable_at(i) = land.lo + i;
  py::dict d;
  d["lo"] = land.lo;
  d["x"] = x;
  d["v"] = py::array_t<double>(land.size(), land.v.data());
  return d;
}

sim::Landscape landscape_of(const py::array_t<double, py::array::c_style | py::array::forcecast>& v, std::int64_t lo) {
  sim::Landscape land;
  land.lo = lo;
  land.v = finite_vector(v, "v");
  require(land.size() >= 2, "v", land.size(), "needs at least 2 sites");
  return land;
}

double mfpt(const py::array_t<double, py::array::c_style | py::array::forcecast>& v, std::int64_t n, std::int64_t lo, double temperature,
            const std::string& dynamics, const std::string& method) {
  const sim::Landscape land = landscape_of(v, lo);
  require(method == "exact" || method == "propagation", "method", method, "expected exact or propagation");
  require(temperature > 0 && std::isfinite(temperature), "temperature", temperature, "must be finite and > 0");
  const sim::HopTable table(land, *sim::make_dynamics(dynamics), temperature);
  if (method == "exact") return sim::mfpt_exact(table, n);
  py::gil_scoped_release nogil;
  return sim::mfpt_by_propagation(sim::chain_from_table(table), 0, n);
}

py::dict mfpt_monte_carlo(const py::array_t<double, py::array::c_style | py::array::forcecast>& v, std::int64_t n, std::int64_t walkers,
                          std::uint64_t seed, std::int64_t lo, double temperature, const std::string& dynamics) {
  const sim::Landscape land = landscape_of(v, lo);
  require(walkers >= 2 && walkers <= 0xFFFFFFFFll, "walkers", walkers, "must be in [2, 2^32)");
  require(temperature > 0 && std::isfinite(temperature), "temperature", temperature, "must be finite and > 0");
  require(n >= 1 && land.contains(0) && land.contains(n), "n", n, "sites 0 ... n must lie in the landscape");
  const sim::HopTable table(land, *sim::make_dynamics(dynamics), temperature);
  sim::MfptEstimate e{};
  {
    py::gil_scoped_release nogil;
    e = sim::mfpt_monte_carlo(table, n, static_cast<std::uint32_t>(walkers), seed);
  }
  py::dict d;
  d["mean"] = e.mean;
  d["standard_error"] = e.standard_error;
  return d;
}

py::object valley_bottom(const py::array_t<double, py::array::c_style | py::array::forcecast>& v, double gamma, std::int64_t lo) {
  require(gamma > 0 && std::isfinite(gamma), "gamma", gamma, "must be finite and > 0");
  const auto b = sim::valley_bottom(landscape_of(v, lo), gamma);
  return b ? py::object(py::int_(*b)) : py::object(py::none());
}

py::object fits_json(const std::vector<sim::FitResult>& fits) {
  nlohmann::json j = fits;
  return from_json(j);
}

py::dict bootstrap(const std::vector<double>& t, const Eigen::MatrixXd& samples, int resamples, double level, std::uint64_t seed,
                   double fixed_k, const std::string& family) {
  require(family == "msd" || family == "distance", "family", family, "expected msd (log-fixed, log-free, power) or distance");
  require(resamples >= 10 && resamples <= 100000, "resamples", resamples, "must be in [10, 100000]");
  require(level > 0 && level < 1, "level", level, "must lie in (0, 1)");
  require(fixed_k > 0 && std::isfinite(fixed_k), "fixed_k", fixed_k, "must be finite and > 0");
  sim::BootstrapFits b;
  {
    py::gil_scoped_release nogil;
    if (family == "msd") {
      b = sim::bootstrap_fits(t, samples, resamples, level, seed, fixed_k);
    } else {
      b = sim::bootstrap_fits(t, samples, resamples, level, seed,
                              sim::ModelComparer([fixed_k](const std::vector<double>& tt, const std::vector<double>& yy) {
                                return sim::compare_distance_models(tt, yy, fixed_k);
                              }));
    }
  }
  nlohmann::json j = b;
  py::dict d;
  d["models"] = from_json(j);
  d["preferred"] = b.fits.front().model;
  d["resamples"] = b.resamples;
  d["level"] = b.level;
  return d;
}

/// gengap-sim fit on arrays: y 1-D (one curve) or 2-D (row = sample: the mean is fitted, bootstrap over rows).
py::object fit(const py::array_t<double, py::array::c_style | py::array::forcecast>& t,
               const py::array_t<double, py::array::c_style | py::array::forcecast>& y, const py::dict& options) {
  const std::vector<double> tv = finite_vector(t, "t");
  core::CsvTable table;
  table.names.push_back("t");
  table.cols.push_back(tv);
  const bool samples = y.ndim() == 2;
  if (samples) {
    const Eigen::MatrixXd m = finite_matrix(y, "y", tv.size());
    for (Eigen::Index r = 0; r < m.rows(); ++r) {
      table.names.push_back("sample" + std::to_string(r));
      std::vector<double> col(static_cast<std::size_t>(m.cols()));
      for (Eigen::Index c = 0; c < m.cols(); ++c) col[static_cast<std::size_t>(c)] = m(r, c);
      table.cols.push_back(std::move(col));
    }
  } else {
    std::vector<double> yv = finite_vector(y, "y");
    require(yv.size() == tv.size(), "y", std::to_string(yv.size()) + " values", "must have one value per time (" + std::to_string(tv.size()) + ")");
    table.names.push_back("y");
    table.cols.push_back(std::move(yv));
  }
  nlohmann::json config = to_json(options, "");
  for (const char* k : {"csv", "json", "t_column", "y_column", "samples"})
    if (config.contains(k))
      throw core::InvalidArgument(k, core::json_excerpt(config[k]), "not an argument of gengap.fit(): pass t and y (2-D: row = sample)");
  config["csv"] = "(arrays)";
  config["samples"] = samples;
  sim::app::RunHooks hooks;
  hooks.table = &table;
  nlohmann::json out;
  {
    py::gil_scoped_release nogil;
    out = sim::app::compute_command("fit", config, "gengap.fit()", hooks);
  }
  return from_json(out);
}

py::dict decide_log_time(const std::vector<double>& t, const py::array_t<double, py::array::c_style | py::array::forcecast>& samples,
                         double t0, double t1, double k_max, double k_min, double min_window_ratio, int min_points, int min_samples,
                         double level) {
  sim::LogTimeRule rule;
  rule.k_max = k_max;
  rule.k_min = k_min;
  rule.min_window_ratio = min_window_ratio;
  rule.min_points = min_points;
  rule.min_samples = min_samples;
  rule.level = level;
  const Eigen::MatrixXd m = finite_matrix(samples, "samples", t.size());
  const sim::LogTimeDecision d = sim::decide_log_time(t, m, t0, t1, rule);
  nlohmann::json j = d;
  py::dict out = from_json(j);
  out["outcome"] = sim::outcome_name(d.outcome);
  return out;
}

py::dict curve_overlap(const py::list& curves, int points) {
  std::vector<sim::Curve> cs;
  std::size_t i = 0;
  for (auto c : curves) {
    const std::string name = "curves[" + std::to_string(i++) + "]";
    require(py::len(c) == 2, name, py::repr(c).cast<std::string>().substr(0, 60), "must be a pair (x, y)");
    const auto xy = c.cast<py::sequence>();
    sim::Curve cv;
    cv.x = finite_vector(xy[0].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>(), (name + ".x").c_str());
    cv.y = finite_vector(xy[1].cast<py::array_t<double, py::array::c_style | py::array::forcecast>>(), (name + ".y").c_str());
    cs.push_back(std::move(cv));
  }
  require(points >= 2 && points <= 100000, "points", points, "must be in [2, 100000]");
  const sim::Overlap o = sim::curve_overlap(cs, points);
  py::dict d;
  d["spread"] = o.spread;
  d["x_lo"] = o.x_lo;
  d["x_hi"] = o.x_hi;
  d["points"] = o.points;
  return d;
}

sim::LatticeFieldOptions lattice_options(int dim, std::int64_t box, double alpha, double sigma, int subharmonics) {
  sim::LatticeFieldOptions o;
  o.dim = dim;
  o.box = box;
  o.alpha = alpha;
  o.s = sigma;
  o.subharmonics = subharmonics;
  sim::check_lattice_options(o);
  return o;
}

/// V of one environment, shaped (L,) * d with V[x0, x1, x2] (Fortran order: x0 fastest, as the library stores it).
py::array lattice_sample(const sim::LatticeField& f, std::uint64_t seed, std::uint64_t env) {
  std::vector<double> v;
  {
    py::gil_scoped_release nogil;
    v = f.sample(seed, env);
  }
  const auto L = static_cast<py::ssize_t>(f.options().box);
  std::vector<py::ssize_t> shape(static_cast<std::size_t>(f.options().dim), L), strides;
  py::ssize_t s = sizeof(double);
  for (std::size_t k = 0; k < shape.size(); ++k) {
    strides.push_back(s);
    s *= L;
  }
  py::array_t<double> out(shape, strides);
  std::copy(v.begin(), v.end(), out.mutable_data());
  return std::move(out);
}

sim::FourierFieldOptions fourier_options(int dim, int modes, double alpha, double k_min, double k_max, double strength, std::uint64_t seed,
                                         std::uint32_t index) {
  sim::FourierFieldOptions o;
  o.dim = dim;
  o.modes = modes;
  o.alpha = alpha;
  o.k_min = k_min;
  o.k_max = k_max;
  o.strength = strength;
  o.seed = seed;
  o.index = index;
  sim::FourierField::check_options(o);
  return o;
}

/// Values and gradients at the rows of w (n x D, or one point of D).
py::tuple evaluate(const sim::Field& f, const py::array_t<double, py::array::c_style | py::array::forcecast>& w) {
  const bool one = w.ndim() == 1;
  require(w.ndim() == 1 || w.ndim() == 2, "w", std::to_string(w.ndim()) + " dimensions", "must be one point (D) or rows of points (n x D)");
  const py::ssize_t n = one ? 1 : w.shape(0), d = one ? w.shape(0) : w.shape(1);
  require(d == f.dim(), "w", std::to_string(d) + " coordinates", "must have the field's dimension D = " + std::to_string(f.dim()));
  Eigen::MatrixXd pts(d, n);  // the library's layout: one point per column
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t k = 0; k < d; ++k) pts(k, i) = w.data()[i * d + k];
  Eigen::VectorXd values;
  Eigen::MatrixXd grads;
  {
    py::gil_scoped_release nogil;
    f.evaluate(pts, &values, &grads);
  }
  if (one) return py::make_tuple(values(0), py::array_t<double>(d, grads.data()));
  py::array_t<double> g({n, d});
  for (py::ssize_t i = 0; i < n; ++i)
    for (py::ssize_t k = 0; k < d; ++k) g.mutable_at(i, k) = grads(k, i);
  return py::make_tuple(py::array_t<double>(n, values.data()), g);
}

py::dict sgd_run(const sim::FourierFieldOptions& field, std::int64_t landscapes, std::int64_t walkers, double lr, double momentum,
                 double noise, std::int64_t batch, double temperature, const std::vector<std::uint64_t>& times, std::uint64_t seed,
                 int threads, const py::object& progress) {
  require(landscapes >= 1 && landscapes <= 0xFFFFFFFFll, "landscapes", landscapes, "must be in [1, 2^32)");
  require(walkers >= 1 && walkers <= 0xFFFFFFFFll, "walkers", walkers, "must be in [1, 2^32)");
  require(threads >= 0, "threads", threads, "must be >= 0");
  sim::SgdConfig c;
  c.landscapes = static_cast<std::uint32_t>(landscapes);
  c.walkers = static_cast<std::uint32_t>(walkers);
  c.lr = lr;
  c.momentum = momentum;
  c.noise = noise;
  c.batch = batch;
  c.temperature = temperature;
  c.times = times;
  c.seed = seed;
  c.threads = static_cast<unsigned>(threads);
  sim::check_sgd(field, c);
  ProgressHook hook(progress);
  c.progress = hook.hook();
  sim::SgdResult r;
  {
    py::gil_scoped_release nogil;
    r = sim::run_sgd(
        [&field](std::uint32_t i) {
          sim::FourierFieldOptions o = field;
          o.index = i;
          return std::make_unique<sim::FourierField>(o);
        },
        c);
  }
  nlohmann::json j = r;
  py::dict d = from_json(j);
  d["env_distance"] = from_json(sim::app::matrix_rows(r.env_distance));
  return d;
}

}  // namespace

void bind_math(py::module_& m) {
  using namespace pybind11::literals;
  // ---- theory ----
  m.attr("KESTEN_MEAN_ABS") = sim::kKestenMeanAbs;
  m.attr("KESTEN_SECOND_MOMENT") = sim::kKestenSecondMoment;
  m.def("kesten_pdf", py::vectorize(&sim::kesten_pdf), "b"_a, "Kesten's density of b = lim sigma^2 x_t / (ln t)^2 (Sinai's walk).");
  m.def("kesten_cdf", py::vectorize(&sim::kesten_cdf), "b"_a, "Kesten's CDF P(b' <= b).");
  m.def("kesten_abs_moment", &sim::kesten_abs_moment, "n"_a, "E|b|^n under Kesten's law (n = 1: 5/6, n = 2: 61/45).");
  m.def("predicted_msd_exponent", &sim::predicted_msd_exponent, "alpha"_a, "4/alpha: <x^2> ~ (T ln t / s)^(4/alpha).");
  m.def("predicted_distance_exponent", &sim::predicted_distance_exponent, "alpha"_a, "2/alpha = 1/gamma: the distance's exponent of ln t.");
  m.def("sigma2",
        [](const std::string& potential, double alpha, double sigma, double temperature) {
          return sim::theory_sigma2(*sim::make_potential(potential, alpha, sigma), temperature);
        },
        "potential"_a = "sinai-gaussian", "alpha"_a = 1.0, "sigma"_a = 1.0, "temperature"_a = 1.0,
        "The theory's sigma^2 = Var(V(x+1) - V(x)) / T^2 (1 / energy^2 units times energy^2: dimensionless).");
  m.def("log_times", &sim::log_times, "t_max"_a, "per_decade"_a = 10, "Distinct log-spaced integer times 1 ... t_max (steps).");
  m.def("landscape", &landscape, "potential"_a = "sinai-gaussian", "alpha"_a = 1.0, "sigma"_a = 1.0, "seed"_a = 1, "env"_a = 0,
        "half_width"_a = 1024, "Environment `env` of seed `seed` on sites [-half_width, half_width]: {lo, x, v} (V(0) = 0).");
  m.def("mfpt", &mfpt, "v"_a, "n"_a, "lo"_a = 0, "temperature"_a = 1.0, "dynamics"_a = "metropolis", "method"_a = "exact",
        "Mean first-passage time (steps) from 0 to n with a reflecting wall at 0 on the landscape v (site lo first).");
  m.def("mfpt_monte_carlo", &mfpt_monte_carlo, "v"_a, "n"_a, "walkers"_a = 1000, "seed"_a = 1, "lo"_a = 0, "temperature"_a = 1.0,
        "dynamics"_a = "metropolis", "The same passage time by Monte Carlo: {mean, standard_error} (steps).");
  m.def("valley_bottom", &valley_bottom, "v"_a, "gamma"_a, "lo"_a = 0,
        "Golosov's b_Gamma of the landscape v (site lo first): the site, or None when the window is too small.");
  // ---- fits and claims ----
  m.def("compare_models", [](const std::vector<double>& t, const std::vector<double>& y, double k) { return fits_json(sim::compare_models(t, y, k)); },
        "t"_a, "y"_a, "fixed_k"_a = 4.0, "log-fixed, log-free and power fits of y(t) on ln y, best AIC first.");
  m.def("compare_distance_models",
        [](const std::vector<double>& t, const std::vector<double>& y, double k) { return fits_json(sim::compare_distance_models(t, y, k)); },
        "t"_a, "y"_a, "fixed_k"_a = 1.0, "log-c, log-c-fixed and power-offset fits of a distance d(t) on d, best AIC first.");
  m.def("bootstrap_fits", &bootstrap, "t"_a, "samples"_a, "resamples"_a = 200, "level"_a = 0.95, "seed"_a = 1, "fixed_k"_a = 4.0,
        "family"_a = "msd", "Fits of the mean of the rows of samples with bootstrap intervals over rows.");
  m.def("fit", &fit, "t"_a, "y"_a, "options"_a, "gengap-sim fit on arrays (the package's gengap.fit wraps it).");
  m.def("decide_log_time", &decide_log_time, "t"_a, "samples"_a, "t0"_a, "t1"_a, "k_max"_a = 8.0, "k_min"_a = 1.0 / 3,
        "min_window_ratio"_a = 30.0, "min_points"_a = 8, "min_samples"_a = 3, "level"_a = 0.95,
        "The log-time claim on curves (rows = runs) within [t0, t1]: supported, falsified or undecided.");
  m.def("curve_overlap", &curve_overlap, "curves"_a, "points"_a = 50,
        "Mean coefficient of variation of curves [(x, y), ...] on their common range, interpolated in ln x.");
  // ---- lattice fields ----
  py::class_<sim::LatticeField>(m, "LatticeField", "A Gaussian field on the periodic box {0 .. L-1}^d with structure exponent alpha.")
      .def(py::init([](int dim, std::int64_t box, double alpha, double sigma, int subharmonics) {
             return std::make_unique<sim::LatticeField>(lattice_options(dim, box, alpha, sigma, subharmonics));
           }),
           "dim"_a = 2, "box"_a = 256, "alpha"_a = 1.0, "sigma"_a = 1.0, "subharmonics"_a = 3)
      .def("sample", &lattice_sample, "seed"_a = 1, "env"_a = 0, "V of environment env: shape (L,) * d, V[x0, x1, x2] (energy units).")
      .def("structure_function",
           [](const sim::LatticeField& f, std::int64_t r0, std::int64_t r1, std::int64_t r2) { return f.structure_function({r0, r1, r2}); },
           "r0"_a, "r1"_a = 0, "r2"_a = 0, "The exact E[(V(x + r) - V(x))^2] of the periodic field.")
      .def_property_readonly("sites", &sim::LatticeField::sites, "L^d");
  // ---- the random Fourier field and SGD / Langevin on it ----
  py::class_<sim::FourierField>(m, "FourierField", "A random field in D dimensions from random Fourier modes, with exact gradients.")
      .def(py::init([](int dim, int modes, double alpha, double k_min, double k_max, double strength, std::uint64_t seed, std::uint32_t index) {
             return std::make_unique<sim::FourierField>(fourier_options(dim, modes, alpha, k_min, k_max, strength, seed, index));
           }),
           "dim"_a = 100, "modes"_a = 1024, "alpha"_a = 1.0, "k_min"_a = 0.05, "k_max"_a = 50.0, "strength"_a = 1.0, "seed"_a = 1, "index"_a = 0)
      .def("evaluate", [](const sim::FourierField& f, const py::array_t<double, py::array::c_style | py::array::forcecast>& w) { return evaluate(f, w); },
           "w"_a, "(values, gradients) at one point (D) or at the rows of w (n x D).")
      .def("structure_function", &sim::FourierField::structure_function, "r"_a, "sum_j a_j^2 (1 - exp(-kappa_j^2 r^2 / (2D))).")
      .def_property_readonly("saturation", &sim::FourierField::saturation, "sum_j a_j^2")
      .def_property_readonly("dim", &sim::FourierField::dim)
      .def_property_readonly("wavevectors", &sim::FourierField::wavevectors, "M x D")
      .def_property_readonly("amplitudes", &sim::FourierField::amplitudes)
      .def_property_readonly("phases", &sim::FourierField::phases)
      .def_property_readonly("frequencies", &sim::FourierField::frequencies);
  m.def("sgd_run",
        [](int dim, int modes, double alpha, double k_min, double k_max, double strength, std::uint64_t field_seed, std::int64_t landscapes,
           std::int64_t walkers, double lr, double momentum, double noise, std::int64_t batch, double temperature,
           const std::vector<std::uint64_t>& times, std::uint64_t seed, int threads, const py::object& progress) {
          return sgd_run(fourier_options(dim, modes, alpha, k_min, k_max, strength, field_seed, 0), landscapes, walkers, lr, momentum,
                         noise, batch, temperature, times, seed, threads, progress);
        },
        "dim"_a, "modes"_a, "alpha"_a, "k_min"_a, "k_max"_a, "strength"_a, "field_seed"_a, "landscapes"_a, "walkers"_a, "lr"_a,
        "momentum"_a, "noise"_a, "batch"_a, "temperature"_a, "times"_a, "seed"_a, "threads"_a, "progress"_a = py::none(),
        "SGD (noise / sqrt(batch)) and Langevin (temperature) walkers on Fourier landscapes 0 ... landscapes-1.");
}

}  // namespace gengap::python
