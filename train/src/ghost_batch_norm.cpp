// Ghost Batch Normalization: all ghost batches of a batch normalized at once over a [G, ghost, C, S] view.
#include "gengap/train/ghost_batch_norm.hpp"

#include <algorithm>
#include <cmath>
#include <tuple>
#include <ostream>

#include <ATen/ATen.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>
#include <torch/csrc/autograd/custom_function.h>
#include <torch/nn/init.h>
#include <torch/utils.h>

namespace gengap::train {

std::vector<int64_t> ghost_split(int64_t n, int64_t ghost) {
  TORCH_CHECK(n >= 0, "ghost_split: batch size n = ", n, " must be >= 0");
  TORCH_CHECK(ghost >= 1, "ghost_batch_size = ", ghost, ": must be >= 1");
  if (n <= ghost) return {n};
  std::vector<int64_t> sizes(static_cast<std::size_t>(n / ghost), ghost);
  const int64_t r = n % ghost;
  if (r == 1) {
    sizes.back() += 1;
  } else if (r > 1) {
    sizes.push_back(r);
  }
  return sizes;
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::reset() {
  TORCH_CHECK(options.num_features() > 0, "GhostBatchNorm: num_features = ", options.num_features(), ": must be > 0");
  TORCH_CHECK(options.ghost_batch_size() >= 1, "GhostBatchNorm: ghost_batch_size = ", options.ghost_batch_size(), ": must be >= 1");
  if (options.affine()) {
    weight = this->register_parameter("weight", torch::empty({options.num_features()}));
    bias = this->register_parameter("bias", torch::empty({options.num_features()}));
  } else {
    weight = this->register_parameter("weight", torch::Tensor(), /*requires_grad=*/false);
    bias = this->register_parameter("bias", torch::Tensor(), /*requires_grad=*/false);
  }
  if (options.track_running_stats()) {
    running_mean = this->register_buffer("running_mean", torch::zeros({options.num_features()}));
    running_var = this->register_buffer("running_var", torch::ones({options.num_features()}));
    num_batches_tracked = this->register_buffer("num_batches_tracked", torch::tensor(0, torch::dtype(torch::kLong)));
  } else {
    running_mean = this->register_buffer("running_mean", torch::Tensor());
    running_var = this->register_buffer("running_var", torch::Tensor());
    num_batches_tracked = this->register_buffer("num_batches_tracked", torch::Tensor());
  }
  reset_parameters();
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::reset_running_stats() {
  if (options.track_running_stats()) {
    torch::NoGradGuard no_grad;
    running_mean.zero_();
    running_var.fill_(1);
    num_batches_tracked.zero_();
  }
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::reset_parameters() {
  reset_running_stats();
  if (options.affine()) {
    torch::nn::init::ones_(weight);
    torch::nn::init::zeros_(bias);
  }
}

template <size_t D, typename Derived>
void GhostBatchNormImplBase<D, Derived>::pretty_print(std::ostream& stream) const {
  stream << "gengap::train::GhostBatchNorm" << D << "d(" << options.num_features()
         << ", ghost_batch_size=" << options.ghost_batch_size() << ", eps=" << options.eps() << ", momentum=";
  if (options.momentum()) {
    stream << *options.momentum();
  } else {
    stream << "None";
  }
  stream << ", affine=" << options.affine() << ", track_running_stats=" << options.track_running_stats() << ")";
}

namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// CPU kernels over x viewed as [G, P, C, S] (G ghost batches of P samples, C channels, S spatial
// positions), contiguous. They read the input once per pass and run the ghost batches in parallel;
// ATen's generic reductions over the middle dimensions are several times slower on CPU.
// Statistics accumulate in double (one pass: sum and sum of squares).
template <class T>
void cpu_sums(const T* x, const T* y, int64_t G, int64_t P, int64_t C, int64_t S, double* s1, double* s2) {
  // s1[g, c] = sum x; s2[g, c] = sum x*y (y = x gives the sum of squares).
  at::parallel_for(0, G, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      double* a = s1 + g * C;
      double* b = s2 + g * C;
      std::fill(a, a + C, 0.0);
      std::fill(b, b + C, 0.0);
      for (int64_t p = 0; p < P; ++p) {
        const T* xr = x + (g * P + p) * C * S;
        const T* yr = y + (g * P + p) * C * S;
        if (S == 1) {
          for (int64_t c = 0; c < C; ++c) {
            a[c] += static_cast<double>(xr[c]);
            b[c] += static_cast<double>(xr[c]) * static_cast<double>(yr[c]);
          }
        } else {
          for (int64_t c = 0; c < C; ++c) {
            double u = 0, v = 0;
            for (int64_t k = 0; k < S; ++k) {
              u += static_cast<double>(xr[c * S + k]);
              v += static_cast<double>(xr[c * S + k]) * static_cast<double>(yr[c * S + k]);
            }
            a[c] += u;
            b[c] += v;
          }
        }
      }
    }
  });
}

template <class T>
void cpu_affine(const T* x, const T* dy, T* out, int64_t G, int64_t P, int64_t C, int64_t S, const double* wx,
                const double* wdy, const double* w0) {
  // out = w0[g,c] + wx[g,c] x (+ wdy[g,c] dy when dy is given).
  at::parallel_for(0, G * P, 1, [&](int64_t r0, int64_t r1) {
    std::vector<T> cx(static_cast<std::size_t>(C)), cd(static_cast<std::size_t>(C)), c0(static_cast<std::size_t>(C));
    int64_t last_g = -1;
    for (int64_t r = r0; r < r1; ++r) {
      const int64_t g = r / P;
      if (g != last_g) {
        for (int64_t c = 0; c < C; ++c) {
          cx[static_cast<std::size_t>(c)] = static_cast<T>(wx[g * C + c]);
          cd[static_cast<std::size_t>(c)] = static_cast<T>(wdy ? wdy[g * C + c] : 0.0);
          c0[static_cast<std::size_t>(c)] = static_cast<T>(w0[g * C + c]);
        }
        last_g = g;
      }
      const T* xr = x + r * C * S;
      T* o = out + r * C * S;
      const T* px = cx.data();
      const T* pd = cd.data();
      const T* p0 = c0.data();
      if (S == 1) {  // [N, C] inputs: one contiguous, vectorizable row
        if (dy) {
          const T* dr = dy + r * C;
          for (int64_t c = 0; c < C; ++c) o[c] = p0[c] + px[c] * xr[c] + pd[c] * dr[c];
        } else {
          for (int64_t c = 0; c < C; ++c) o[c] = p0[c] + px[c] * xr[c];
        }
        continue;
      }
      if (dy) {
        const T* dr = dy + r * C * S;
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < S; ++k)
            o[c * S + k] = c0[static_cast<std::size_t>(c)] + cx[static_cast<std::size_t>(c)] * xr[c * S + k] +
                           cd[static_cast<std::size_t>(c)] * dr[c * S + k];
      } else {
        for (int64_t c = 0; c < C; ++c)
          for (int64_t k = 0; k < S; ++k) o[c * S + k] = c0[static_cast<std::size_t>(c)] + cx[static_cast<std::size_t>(c)] * xr[c * S + k];
      }
    }
  });
}

// The CPU kernels take float or double on the CPU, weight and bias (when given) contiguous and of the input's type.
bool use_cpu_kernels(const torch::Tensor& x, const torch::Tensor& weight, const torch::Tensor& bias) {
  auto fits = [&x](const torch::Tensor& p) {
    return !p.defined() || (p.device().is_cpu() && p.scalar_type() == x.scalar_type() && p.is_contiguous());
  };
  return x.device().is_cpu() && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble) && fits(weight) && fits(bias);
}

// Batch normalization of `groups` ghost batches at once, with a hand-written backward: the input
// [groups * per, C, *] is viewed (no copy) as [groups, per, C, S] and reduced over dims 1 and 3.
// Outputs: y, and the per-ghost mean and unbiased variance [groups, C] (not differentiable).
struct GhostNormFunction : public torch::autograd::Function<GhostNormFunction> {
  // The CPU path: two passes over the data each way (forward: statistics, output; backward: the two
  // gradient sums, dx) and everything on [G, C] in plain loops in double, no LibTorch operator in
  // between: at one ghost of 32 those small operators (about 40 per layer and step) cost more than the passes.
  // Saved for backward: x4, and [2, G, C] doubles holding the mean and 1/sqrt(var + eps).
  static variable_list cpu_forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias, int64_t G, int64_t P, int64_t C, int64_t S, double eps) {
    const torch::Tensor x4 = x.view({G, P, C, S});
    const double n = static_cast<double>(P * S);
    const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
    torch::Tensor saved = torch::empty({2, G, C}, dbl);        // mean, invstd
    torch::Tensor coef = torch::empty({3, G, C}, dbl);         // scale, shift, and the sum of squares first
    torch::Tensor y = torch::empty_like(x);
    torch::Tensor stats = torch::empty({2, G, C}, x.options());  // the ghost batches' mean and unbiased variance
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "ghost_bn_forward", [&] {
      double* mean = saved.data_ptr<double>();
      double* invstd = mean + G * C;
      double* scale = coef.data_ptr<double>();
      double* shift = scale + G * C;
      double* sq = shift + G * C;
      const scalar_t* xp = x.data_ptr<scalar_t>();
      cpu_sums<scalar_t>(xp, xp, G, P, C, S, mean, sq);
      const scalar_t* w = weight.defined() ? weight.data_ptr<scalar_t>() : nullptr;
      const scalar_t* b = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
      scalar_t* smean = stats.data_ptr<scalar_t>();
      scalar_t* svar = smean + G * C;
      for (int64_t g = 0; g < G; ++g) {
        for (int64_t c = 0; c < C; ++c) {
          const int64_t i = g * C + c;
          const double m = mean[i] / n;
          const double v = std::max(sq[i] / n - m * m, 0.0);
          const double is = 1.0 / std::sqrt(v + eps);
          mean[i] = m;
          invstd[i] = is;
          scale[i] = is * (w ? static_cast<double>(w[c]) : 1.0);
          shift[i] = (b ? static_cast<double>(b[c]) : 0.0) - m * scale[i];
          smean[i] = static_cast<scalar_t>(m);
          svar[i] = static_cast<scalar_t>(n > 1 ? v * (n / (n - 1)) : v);
        }
      }
      cpu_affine<scalar_t>(xp, nullptr, y.data_ptr<scalar_t>(), G, P, C, S, scale, nullptr, shift);
    });
    ctx->save_for_backward({x4, saved, weight});
    ctx->saved_data["cpu"] = true;
    ctx->saved_data["has_bias"] = bias.defined();
    torch::Tensor stats_mean = stats[0], stats_var = stats[1];
    ctx->mark_non_differentiable({stats_mean, stats_var});
    return {y, stats_mean, stats_var};
  }

  static variable_list cpu_backward(AutogradContext* ctx, const variable_list& grads) {
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x4 = saved[0];
    const torch::Tensor& st = saved[1];
    const torch::Tensor& weight = saved[2];
    const bool has_bias = ctx->saved_data["has_bias"].toBool();
    const int64_t G = x4.size(0), P = x4.size(1), C = x4.size(2), S = x4.size(3);
    const double n = static_cast<double>(P * S);
    const torch::Tensor dy = grads[0].contiguous().view(x4.sizes());
    const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
    torch::Tensor work = torch::empty({5, G, C}, dbl);  // sum dy, sum dy x, then wi, b, a
    torch::Tensor dx = torch::empty_like(x4);
    torch::Tensor dw = weight.defined() ? torch::empty({C}, weight.options()) : torch::Tensor();
    torch::Tensor db = has_bias ? torch::empty({C}, weight.defined() ? weight.options() : x4.options()) : torch::Tensor();
    AT_DISPATCH_FLOATING_TYPES(x4.scalar_type(), "ghost_bn_backward", [&] {
      const double* mean = st.data_ptr<double>();
      const double* invstd = mean + G * C;
      double* sdy = work.data_ptr<double>();
      double* sdyx = sdy + G * C;
      double* wi = sdyx + G * C;
      double* bx = wi + G * C;
      double* a0 = bx + G * C;
      const scalar_t* xp = x4.data_ptr<scalar_t>();
      const scalar_t* dyp = dy.data_ptr<scalar_t>();
      cpu_sums<scalar_t>(dyp, xp, G, P, C, S, sdy, sdyx);
      const scalar_t* w = weight.defined() ? weight.data_ptr<scalar_t>() : nullptr;
      for (int64_t c = 0; c < C; ++c) {
        double sum_w = 0, sum_b = 0;  // dL/dweight[c] = sum over ghosts of sum dy xhat; dL/dbias[c] = sum dy
        for (int64_t g = 0; g < G; ++g) {
          const int64_t i = g * C + c;
          const double dyxhat = invstd[i] * (sdyx[i] - mean[i] * sdy[i]);
          // dx = wi (dy - sum_dy/n - xhat sum_dy_xhat/n) = wi dy + b x + a, with xhat = (x - mean) invstd.
          wi[i] = invstd[i] * (w ? static_cast<double>(w[c]) : 1.0);
          bx[i] = -wi[i] * invstd[i] * dyxhat / n;
          a0[i] = -wi[i] * sdy[i] / n - bx[i] * mean[i];
          sum_w += dyxhat;
          sum_b += sdy[i];
        }
        if (w) dw.data_ptr<scalar_t>()[c] = static_cast<scalar_t>(sum_w);
        if (has_bias) db.data_ptr<scalar_t>()[c] = static_cast<scalar_t>(sum_b);
      }
      cpu_affine<scalar_t>(xp, dyp, dx.data_ptr<scalar_t>(), G, P, C, S, bx, wi, a0);
    });
    return {dx.view(grads[0].sizes()), dw, db, torch::Tensor(), torch::Tensor()};
  }

  static variable_list forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight,
                               const torch::Tensor& bias, int64_t groups, double eps) {
    const torch::Tensor x = input.contiguous();
    const int64_t c = x.size(1), per = x.size(0) / groups;
    const int64_t s = x.numel() / std::max<int64_t>(1, x.size(0) * c);
    if (use_cpu_kernels(x, weight, bias)) return cpu_forward(ctx, x, weight, bias, groups, per, c, s, eps);
    // Other devices: ATen's operators.
    const torch::Tensor x4 = x.view({groups, per, c, s});
    const double n = static_cast<double>(per * s);
    torch::Tensor mean, var;
    std::tie(var, mean) = torch::var_mean(x4, {1, 3}, /*unbiased=*/false, /*keepdim=*/true);
    const torch::Tensor invstd = (var + eps).rsqrt();
    const torch::Tensor scale = weight.defined() ? invstd * weight.view({1, 1, c, 1}) : invstd;
    torch::Tensor shift = -mean * scale;
    if (bias.defined()) shift = shift + bias.view({1, 1, c, 1});
    const torch::Tensor y = torch::addcmul(shift, x4, scale).view(x.sizes());
    ctx->save_for_backward({x4, mean, invstd, weight});
    ctx->saved_data["has_bias"] = bias.defined();
    torch::Tensor unbiased = n > 1 ? var * (n / (n - 1)) : var;
    auto stats_mean = mean.view({groups, c}).to(x.scalar_type()), stats_var = unbiased.view({groups, c}).to(x.scalar_type());
    ctx->mark_non_differentiable({stats_mean, stats_var});
    return {y, stats_mean, stats_var};
  }

  static variable_list backward(AutogradContext* ctx, variable_list grads) {
    if (ctx->saved_data.count("cpu") != 0) return cpu_backward(ctx, grads);
    const auto saved = ctx->get_saved_variables();
    const torch::Tensor& x4 = saved[0];
    const torch::Tensor& mean = saved[1];
    const torch::Tensor& invstd = saved[2];
    const torch::Tensor& weight = saved[3];
    const int64_t P = x4.size(1), c = x4.size(2), S = x4.size(3);
    const double n = static_cast<double>(P * S);
    const torch::Tensor dy = grads[0].contiguous().view(x4.sizes());
    const torch::Tensor sum_dy = dy.sum({1, 3}, /*keepdim=*/true);
    const torch::Tensor sum_dy_x = (dy * x4).sum({1, 3}, /*keepdim=*/true);
    const torch::Tensor sum_dy_xhat = invstd * (sum_dy_x - mean * sum_dy);
    const torch::Tensor w = weight.defined() ? weight.to(invstd.scalar_type()).view({1, 1, c, 1}) : torch::Tensor();
    const torch::Tensor wi = w.defined() ? invstd * w : invstd;
    // dx = wi (dy - sum_dy/n - xhat sum_dy_xhat/n) = wi dy + b x + a, with xhat = (x - mean) invstd.
    const torch::Tensor b = -wi * invstd * sum_dy_xhat / n;
    const torch::Tensor a = -wi * sum_dy / n - b * mean;
    const torch::Tensor dx = torch::addcmul(torch::addcmul(a, x4, b), dy, wi).view(grads[0].sizes());
    torch::Tensor dw, db;
    if (weight.defined()) dw = sum_dy_xhat.sum({0, 1, 3}).to(weight.scalar_type());
    if (ctx->saved_data["has_bias"].toBool()) db = sum_dy.sum({0, 1, 3}).to(weight.defined() ? weight.scalar_type() : x4.scalar_type());
    return {dx, dw, db, torch::Tensor(), torch::Tensor()};
  }
};

struct GhostOut {
  torch::Tensor y, mean, var;
};

GhostOut normalize_groups(const torch::Tensor& x, int64_t groups, const torch::Tensor& weight, const torch::Tensor& bias,
                          double eps) {
  auto out = GhostNormFunction::apply(x, weight, bias, groups, eps);
  return {out[0], out[1], out[2]};
}

}  // namespace

template <size_t D, typename Derived>
torch::Tensor GhostBatchNormImplBase<D, Derived>::forward(const torch::Tensor& input) {
  check_input_dim(input);
  TORCH_CHECK(input.size(1) == options.num_features(), "GhostBatchNorm", D, "d: input has ", input.size(1),
              " channels, expected num_features = ", options.num_features());
  const bool track = options.track_running_stats();
  if (!this->is_training()) {
    // Evaluation: plain batch norm, never split.
    return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/!track,
                             options.momentum().value_or(0.0), options.eps(), at::globalContext().userEnabledCuDNN());
  }
  const auto split = ghost_split(input.size(0), options.ghost_batch_size());
  const auto k = static_cast<int64_t>(split.size());
  // The leading ghost batches of the common size are normalized together; a last ghost batch of
  // another size (smaller, or one larger when it absorbed a single leftover sample) through a second.
  const int64_t g0 = split.front();
  int64_t n_main = k;
  while (n_main > 0 && split[static_cast<std::size_t>(n_main - 1)] != g0) --n_main;
  std::vector<GhostOut> parts;
  parts.push_back(normalize_groups(input.narrow(0, 0, n_main * g0), n_main, weight, bias, options.eps()));
  if (n_main < k) {
    const int64_t rest = input.size(0) - n_main * g0;
    parts.push_back(normalize_groups(input.narrow(0, n_main * g0, rest), 1, weight, bias, options.eps()));
  }
  if (track) {
    torch::NoGradGuard no_grad;
    // Sequential BatchNorm steps in closed form: weights m (1-m)^(k-1-i) for ghost i, (1-m)^k for the old value.
    std::vector<double> w(static_cast<std::size_t>(k));
    double keep = 1;
    const int64_t seen = num_batches_tracked.item<int64_t>();
    for (int64_t i = k - 1; i >= 0; --i) {
      const double m = options.momentum() ? *options.momentum() : 1.0 / static_cast<double>(seen + i + 1);
      w[static_cast<std::size_t>(i)] = m * keep;
      keep *= 1 - m;
    }
    const auto plain = [this](const torch::Tensor& t) {
      return t.device().is_cpu() && t.is_contiguous() && t.scalar_type() == running_mean.scalar_type();
    };
    bool cpu = plain(running_mean) && plain(running_var) &&
               (running_mean.scalar_type() == torch::kFloat || running_mean.scalar_type() == torch::kDouble);
    for (const GhostOut& p : parts) cpu = cpu && plain(p.mean) && plain(p.var);
    if (cpu) {
      // In double, in one loop: no small operators (see GhostNormFunction::cpu_forward).
      const int64_t C = running_mean.numel();
      AT_DISPATCH_FLOATING_TYPES(running_mean.scalar_type(), "ghost_bn_running_stats", [&] {
        scalar_t* rm = running_mean.data_ptr<scalar_t>();
        scalar_t* rv = running_var.data_ptr<scalar_t>();
        for (int64_t c = 0; c < C; ++c) {
          double m = keep * static_cast<double>(rm[c]), v = keep * static_cast<double>(rv[c]);
          std::size_t i = 0;
          for (const GhostOut& p : parts) {
            const scalar_t* pm = p.mean.data_ptr<scalar_t>();
            const scalar_t* pv = p.var.data_ptr<scalar_t>();
            for (int64_t r = 0; r < p.mean.size(0); ++r, ++i) {
              m += w[i] * static_cast<double>(pm[r * C + c]);
              v += w[i] * static_cast<double>(pv[r * C + c]);
            }
          }
          rm[c] = static_cast<scalar_t>(m);
          rv[c] = static_cast<scalar_t>(v);
        }
      });
    } else {
      const torch::Tensor means = parts.size() == 1 ? parts[0].mean : torch::cat({parts[0].mean, parts[1].mean});
      const torch::Tensor vars = parts.size() == 1 ? parts[0].var : torch::cat({parts[0].var, parts[1].var});
      const torch::Tensor wt = torch::tensor(w, torch::dtype(torch::kDouble)).to(means.options()).unsqueeze(1);
      running_mean.mul_(keep).add_((wt * means).sum(0).to(running_mean.dtype()));
      running_var.mul_(keep).add_((wt * vars).sum(0).to(running_var.dtype()));
    }
    num_batches_tracked.add_(k);
  }
  return parts.size() == 1 ? parts[0].y : torch::cat({parts[0].y, parts[1].y}, 0);
}

void GhostBatchNorm1dImpl::check_input_dim(const torch::Tensor& input) const {
  TORCH_CHECK(input.dim() == 2 || input.dim() == 3, "GhostBatchNorm1d: expected 2D or 3D input [N, C] or [N, C, L] (got ",
              input.dim(), "D input)");
}

void GhostBatchNorm2dImpl::check_input_dim(const torch::Tensor& input) const {
  TORCH_CHECK(input.dim() == 4, "GhostBatchNorm2d: expected 4D input [N, C, H, W] (got ", input.dim(), "D input)");
}

template class GhostBatchNormImplBase<1, GhostBatchNorm1dImpl>;
template class GhostBatchNormImplBase<2, GhostBatchNorm2dImpl>;

}  // namespace gengap::train
