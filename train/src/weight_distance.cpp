// Weight distance from initialization, its recording schedule, and the landscape exponent.
#include "gengap/train/weight_distance.hpp"

#include <cmath>
#include <limits>

#include <torch/nn/module.h>

namespace gengap::train {

WeightDistance::WeightDistance(const torch::nn::Module& module) {
  torch::NoGradGuard ng;
  for (const auto& p : module.named_parameters(/*recurse=*/true))
    if (p.value().requires_grad()) w0_[p.key()] = p.value().detach().clone();
}

double WeightDistance::total(const torch::nn::Module& module) const {
  torch::NoGradGuard ng;
  double sq = 0;
  for (const auto& p : module.named_parameters(true)) {
    auto it = w0_.find(p.key());
    if (it == w0_.end()) continue;
    sq += (p.value().detach().to(torch::kDouble) - it->second.to(torch::kDouble)).pow(2).sum().item<double>();
  }
  return std::sqrt(sq);
}

std::map<std::string, double> WeightDistance::per_layer(const torch::nn::Module& module) const {
  torch::NoGradGuard ng;
  std::map<std::string, double> sq;
  for (const auto& p : module.named_parameters(true)) {
    auto it = w0_.find(p.key());
    if (it == w0_.end()) continue;
    const auto dot = p.key().rfind('.');
    const std::string layer = dot == std::string::npos ? p.key() : p.key().substr(0, dot);
    sq[layer] += (p.value().detach().to(torch::kDouble) - it->second.to(torch::kDouble)).pow(2).sum().item<double>();
  }
  for (auto& [k, v] : sq) v = std::sqrt(v);
  return sq;
}

std::map<std::string, WeightDistance::Geometry> WeightDistance::weight_geometry(const torch::nn::Module& module) const {
  torch::NoGradGuard ng;
  std::map<std::string, Geometry> out;
  for (const auto& p : module.named_parameters(true)) {
    auto it = w0_.find(p.key());
    if (it == w0_.end() || p.value().dim() < 2) continue;
    const torch::Tensor w = p.value().detach().to(torch::kDouble), w0 = it->second.to(torch::kDouble);
    Geometry g;
    g.norm = w.norm().item<double>();
    g.norm0 = w0.norm().item<double>();
    g.cos = (g.norm > 0 && g.norm0 > 0) ? (w * w0).sum().item<double>() / (g.norm * g.norm0) : 1.0;
    out[p.key()] = g;
  }
  return out;
}

namespace {
void collect_before_bn(const torch::nn::Module& m, const std::string& prefix, std::vector<std::string>& out) {
  const auto children = m.named_children();
  for (std::size_t i = 0; i < children.size(); ++i) {
    const std::string name = prefix + children[i].key();
    const auto& mod = *children[i].value();
    if (i + 1 < children.size() && children[i + 1].value()->name().find("BatchNorm") != std::string::npos) {
      for (const auto& p : mod.named_parameters(/*recurse=*/false))
        if (p.key() == "weight" && p.value().dim() >= 2) out.push_back(name + ".weight");
    }
    collect_before_bn(mod, name + ".", out);
  }
}
}  // namespace

std::vector<std::string> weights_before_batch_norm(const torch::nn::Module& model) {
  std::vector<std::string> out;
  collect_before_bn(model, "", out);
  return out;
}

bool distance_due(int64_t t, int per_decade) {
  if (t <= 100) return t >= 1;
  // t is due when it is the first integer at or past 10^(k / per_decade) for some integer k; the
  // only candidate is k = floor(per_decade log10 t), for which 10^(k / per_decade) <= t.
  const double k = std::floor(std::log10(static_cast<double>(t)) * per_decade + 1e-9);
  const auto first = static_cast<int64_t>(std::ceil(std::pow(10.0, k / per_decade) - 1e-9));
  return t == first;
}

double estimate_gamma(const std::vector<std::vector<double>>& d, const std::vector<std::vector<double>>& dl) {
  if (d.size() < 2 || d.size() != dl.size()) return std::numeric_limits<double>::quiet_NaN();
  const std::size_t n_t = d.front().size();
  std::vector<double> lx, ly;
  for (std::size_t i = 0; i < n_t; ++i) {
    double md = 0, m = 0, m2 = 0;
    const double runs = static_cast<double>(d.size());
    for (std::size_t r = 0; r < d.size(); ++r) {
      if (d[r].size() != n_t || dl[r].size() != n_t) return std::numeric_limits<double>::quiet_NaN();
      md += d[r][i];
      m += dl[r][i];
      m2 += dl[r][i] * dl[r][i];
    }
    md /= runs;
    m /= runs;
    const double var = (m2 - runs * m * m) / (runs - 1);
    if (md > 0 && var > 0) {
      lx.push_back(std::log(md));
      ly.push_back(0.5 * std::log(var));
    }
  }
  if (lx.size() < 3) return std::numeric_limits<double>::quiet_NaN();
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    mx += lx[i];
    my += ly[i];
  }
  mx /= static_cast<double>(lx.size());
  my /= static_cast<double>(lx.size());
  double sxx = 0, sxy = 0;
  for (std::size_t i = 0; i < lx.size(); ++i) {
    sxx += (lx[i] - mx) * (lx[i] - mx);
    sxy += (lx[i] - mx) * (ly[i] - my);
  }
  return sxx > 0 ? sxy / sxx : std::numeric_limits<double>::quiet_NaN();
}

}  // namespace gengap::train
