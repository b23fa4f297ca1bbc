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
// positions), contiguous. ATen's generic reductions over the middle dimensions are several times
// slower on CPU. Statistics accumulate in double (one pass: sum and sum of squares).
//
// The work is split into tasks of one ghost batch and a block of its channels (about 16k elements of
// each tensor, 64 KiB of floats): a task sums its block, turns the sums into the block's coefficients
// and runs the elementwise pass over the block while the block is still in the core's cache, so the
// data comes from memory once per pass instead of twice. Every channel is summed in the same order
// (row by row; within a row, over its S positions first) whatever the blocks and threads, so the
// results are the same bits on any number of threads. Problems below about 32k elements run on the
// calling thread.

/// Elements below which a parallel loop runs on the calling thread (ATen's own grain).
constexpr int64_t kGrain = 32768;
/// Elements of each tensor per task.
constexpr int64_t kTask = 16384;

// Sums over the P rows of one ghost batch, channels [c_lo, c_hi): s1[c] = sum x, s2[c] = sum x*y
// (y = x gives the sum of squares).
template <class T>
void ghost_sums(const T* x, const T* y, int64_t P, int64_t C, int64_t S, int64_t c_lo, int64_t c_hi, double* s1,
                double* s2) {
  std::fill(s1 + c_lo, s1 + c_hi, 0.0);
  std::fill(s2 + c_lo, s2 + c_hi, 0.0);
  if (S == 1) {
    // [N, C] inputs: four rows at a time, streamed in memory order, each added to the running sums
    // in row order (the same bits as one row at a time) with one load and one store of the sums.
    int64_t p = 0;
    for (; p + 4 <= P; p += 4) {
      const T* x0 = x + p * C;
      const T* y0 = y + p * C;
      for (int64_t c = c_lo; c < c_hi; ++c) {
        double a = s1[c], b = s2[c];
        for (int64_t r = 0; r < 4; ++r) {
          const double u = static_cast<double>(x0[r * C + c]);
          a += u;
          b += u * static_cast<double>(y0[r * C + c]);
        }
        s1[c] = a;
        s2[c] = b;
      }
    }
    for (; p < P; ++p) {
      for (int64_t c = c_lo; c < c_hi; ++c) {
        const double u = static_cast<double>(x[p * C + c]);
        s1[c] += u;
        s2[c] += u * static_cast<double>(y[p * C + c]);
      }
    }
    return;
  }
  for (int64_t p = 0; p < P; ++p) {
    for (int64_t c = c_lo; c < c_hi; ++c) {
      const T* xr = x + (p * C + c) * S;
      const T* yr = y + (p * C + c) * S;
      double u = 0, v = 0;
      for (int64_t k = 0; k < S; ++k) {
        u += static_cast<double>(xr[k]);
        v += static_cast<double>(xr[k]) * static_cast<double>(yr[k]);
      }
      s1[c] += u;
      s2[c] += v;
    }
  }
}

// out = w0[c] + wx[c] x (+ wdy[c] dy when dy is given) over the channels [c_lo, c_hi) of `rows`
// rows of C*S elements that share the coefficients (rows of one ghost batch).
template <class T>
void rows_affine(const T* x, const T* dy, T* out, int64_t rows, int64_t C, int64_t S, int64_t c_lo, int64_t c_hi,
                 const T* wx, const T* wdy, const T* w0) {
  for (int64_t r = 0; r < rows; ++r) {
    const T* xr = x + r * C * S;
    const T* dr = dy ? dy + r * C * S : nullptr;
    T* o = out + r * C * S;
    if (S == 1) {  // [N, C] inputs: a contiguous, vectorizable part of a row
      if (dr) {
        for (int64_t c = c_lo; c < c_hi; ++c) o[c] = w0[c] + wx[c] * xr[c] + wdy[c] * dr[c];
      } else {
        for (int64_t c = c_lo; c < c_hi; ++c) o[c] = w0[c] + wx[c] * xr[c];
      }
      continue;
    }
    for (int64_t c = c_lo; c < c_hi; ++c) {
      const T a = wx[c], b0 = w0[c];
      if (dr) {
        const T d = wdy[c];
        for (int64_t k = 0; k < S; ++k) o[c * S + k] = b0 + a * xr[c * S + k] + d * dr[c * S + k];
      } else {
        for (int64_t k = 0; k < S; ++k) o[c * S + k] = b0 + a * xr[c * S + k];
      }
    }
  }
}

// One pass of statistics and one elementwise pass over [G, P, C, S] data, task by task (see above):
// s1 = sum u, s2 = sum u v per ghost batch and channel ([G, C] doubles), then finish(g, lo, hi) turns
// the sums of ghost g, channels [lo, hi), into their coefficients wx, wdy, w0 ([G, C], type T; wdy
// only when dy is given), then out = w0 + wx x (+ wdy dy) over those channels.
template <class T, class Finish>
void two_passes(const T* u, const T* v, const T* x, const T* dy, T* out, int64_t G, int64_t P, int64_t C, int64_t S,
                double* s1, double* s2, const T* wx, const T* wdy, const T* w0, const Finish& finish) {
  const int64_t ghost = P * C * S;
  int64_t width = std::max<int64_t>(1, kTask / std::max<int64_t>(1, P * S));  // channels per task
  if (S == 1 && width >= 16) width -= width % 16;                             // whole vectors of a row
  width = std::min(width, C);
  const int64_t blocks = (C + width - 1) / width;
  const int64_t grain = std::max<int64_t>(1, kGrain / std::max<int64_t>(1, P * width * S));
  const auto coef = [&](const T* p, int64_t g) { return p ? p + g * C : nullptr; };
  at::parallel_for(0, G * blocks, grain, [&](int64_t j0, int64_t j1) {
    for (int64_t j = j0; j < j1; ++j) {
      const int64_t g = j / blocks, lo = (j % blocks) * width, hi = std::min(C, lo + width);
      ghost_sums(u + g * ghost, v + g * ghost, P, C, S, lo, hi, s1 + g * C, s2 + g * C);
      finish(g, lo, hi);
      rows_affine(x + g * ghost, dy ? dy + g * ghost : nullptr, out + g * ghost, P, C, S, lo, hi, coef(wx, g),
                  coef(wdy, g), coef(w0, g));
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
  // The CPU path: one pass of statistics and one elementwise pass each way (two_passes, in cache-sized tasks), and
  // everything on [G, C] in plain loops in double, no LibTorch operator in between: at one ghost of
  // 32 those small operators (about 40 per layer and step) cost more than the passes.
  // Saved for backward: x4, and [2, G, C] doubles holding the mean and 1/sqrt(var + eps).
  static variable_list cpu_forward(AutogradContext* ctx, const torch::Tensor& x, const torch::Tensor& weight,
                                   const torch::Tensor& bias, int64_t G, int64_t P, int64_t C, int64_t S, double eps) {
    const torch::Tensor x4 = x.view({G, P, C, S});
    const double n = static_cast<double>(P * S);
    torch::Tensor saved = torch::empty({2, G, C}, torch::TensorOptions().dtype(torch::kDouble));  // mean, invstd
    torch::Tensor y = torch::empty_like(x);
    torch::Tensor stats = torch::empty({2, G, C}, x.options());  // the ghost batches' mean and unbiased variance
    torch::Tensor coef = torch::empty({2, G, C}, x.options());   // scale, shift
    AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "ghost_bn_forward", [&] {
      double* mean = saved.data_ptr<double>();
      double* invstd = mean + G * C;  // holds the sums of squares until finish
      scalar_t* scale = coef.data_ptr<scalar_t>();
      scalar_t* shift = scale + G * C;
      const scalar_t* w = weight.defined() ? weight.data_ptr<scalar_t>() : nullptr;
      const scalar_t* b = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
      scalar_t* smean = stats.data_ptr<scalar_t>();
      scalar_t* svar = smean + G * C;
      const auto finish = [&](int64_t g, int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
          const int64_t i = g * C + c;
          const double m = mean[i] / n;
          const double v = std::max(invstd[i] / n - m * m, 0.0);
          const double is = 1.0 / std::sqrt(v + eps);
          const double sc = is * (w ? static_cast<double>(w[c]) : 1.0);
          mean[i] = m;
          invstd[i] = is;
          scale[i] = static_cast<scalar_t>(sc);
          shift[i] = static_cast<scalar_t>((b ? static_cast<double>(b[c]) : 0.0) - m * sc);
          smean[i] = static_cast<scalar_t>(m);
          svar[i] = static_cast<scalar_t>(n > 1 ? v * (n / (n - 1)) : v);
        }
      };
      const scalar_t* xp = x.data_ptr<scalar_t>();
      two_passes<scalar_t>(xp, xp, xp, nullptr, y.data_ptr<scalar_t>(), G, P, C, S, mean, invstd, scale, nullptr, shift,
                           finish);
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
    torch::Tensor sums = torch::empty({2, G, C}, torch::TensorOptions().dtype(torch::kDouble));  // sum dy, sum dy x
    torch::Tensor coef = torch::empty({3, G, C}, x4.options());                                   // wi, b, a
    torch::Tensor dx = torch::empty_like(x4);
    torch::Tensor dw = weight.defined() ? torch::empty({C}, weight.options()) : torch::Tensor();
    torch::Tensor db = has_bias ? torch::empty({C}, weight.defined() ? weight.options() : x4.options()) : torch::Tensor();
    AT_DISPATCH_FLOATING_TYPES(x4.scalar_type(), "ghost_bn_backward", [&] {
      const double* mean = st.data_ptr<double>();
      const double* invstd = mean + G * C;
      double* sdy = sums.data_ptr<double>();
      double* sdyx = sdy + G * C;  // sum dy x, then sum dy xhat after finish
      scalar_t* wi = coef.data_ptr<scalar_t>();
      scalar_t* bx = wi + G * C;
      scalar_t* a0 = bx + G * C;
      const scalar_t* w = weight.defined() ? weight.data_ptr<scalar_t>() : nullptr;
      const auto finish = [&](int64_t g, int64_t lo, int64_t hi) {
        for (int64_t c = lo; c < hi; ++c) {
          const int64_t i = g * C + c;
          const double dyxhat = invstd[i] * (sdyx[i] - mean[i] * sdy[i]);
          // dx = wi (dy - sum_dy/n - xhat sum_dy_xhat/n) = wi dy + b x + a, with xhat = (x - mean) invstd.
          const double wid = invstd[i] * (w ? static_cast<double>(w[c]) : 1.0);
          const double bd = -wid * invstd[i] * dyxhat / n;
          wi[i] = static_cast<scalar_t>(wid);
          bx[i] = static_cast<scalar_t>(bd);
          a0[i] = static_cast<scalar_t>(-wid * sdy[i] / n - bd * mean[i]);
          sdyx[i] = dyxhat;
        }
      };
      const scalar_t* xp = x4.data_ptr<scalar_t>();
      const scalar_t* dyp = dy.data_ptr<scalar_t>();
      two_passes<scalar_t>(dyp, xp, xp, dyp, dx.data_ptr<scalar_t>(), G, P, C, S, sdy, sdyx, bx, wi, a0, finish);
      // dL/dweight[c] = sum over ghosts of sum dy xhat; dL/dbias[c] = sum dy.
      for (int64_t c = 0; c < C; ++c) {
        double sum_w = 0, sum_b = 0;
        for (int64_t g = 0; g < G; ++g) {
          sum_w += sdyx[g * C + c];
          sum_b += sdy[g * C + c];
        }
        if (w) dw.data_ptr<scalar_t>()[c] = static_cast<scalar_t>(sum_w);
        if (has_bias) db.data_ptr<scalar_t>()[c] = static_cast<scalar_t>(sum_b);
      }
    });
    return {dx.view(grads[0].sizes()), dw, db, torch::Tensor(), torch::Tensor()};
  }

  static variable_list forward(AutogradContext* ctx, const torch::Tensor& input, const torch::Tensor& weight_in,
                               const torch::Tensor& bias_in, int64_t groups, double eps) {
    // An empty tensor stands for no weight or bias (see normalize_groups()).
    const torch::Tensor weight = weight_in.numel() > 0 ? weight_in : torch::Tensor();
    const torch::Tensor bias = bias_in.numel() > 0 ? bias_in : torch::Tensor();
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
  // LibTorch 1.13's Function::apply cannot take an undefined tensor (VariableInfo asks for its
  // device): without affine parameters, empty tensors stand for them.
  const torch::Tensor none = torch::empty({0}, x.options());
  auto out = GhostNormFunction::apply(x, weight.defined() ? weight : none, bias.defined() ? bias : none, groups, eps);
  return {out[0], out[1], out[2]};
}

}  // namespace

torch::Tensor ghost_batch_norm(const torch::Tensor& input, const torch::Tensor& weight, const torch::Tensor& bias,
                               const torch::Tensor& running_mean, const torch::Tensor& running_var,
                               const torch::Tensor& num_batches_tracked, bool training, c10::optional<double> momentum, double eps,
                               int64_t ghost_batch_size) {
  TORCH_CHECK(input.dim() >= 2, "ghost_batch_norm: expected an input [N, C, ...] (got ", input.dim(), "D input)");
  TORCH_CHECK(ghost_batch_size >= 1, "ghost_batch_norm: ghost_batch_size = ", ghost_batch_size, ": must be >= 1");
  const int64_t C = input.size(1);
  for (const torch::Tensor* t : {&weight, &bias, &running_mean, &running_var})
    TORCH_CHECK(!t->defined() || (t->dim() == 1 && t->size(0) == C), "ghost_batch_norm: input has ", C,
                " channels, but the weight, bias or running statistics have ", t->defined() ? t->numel() : 0, " (num_features)");
  TORCH_CHECK(running_mean.defined() == running_var.defined(), "ghost_batch_norm: give both running_mean and running_var, or neither");
  const bool track = running_mean.defined();
  if (!training) {
    // Evaluation: plain batch norm, never split (with batch statistics when there are no running ones).
    return torch::batch_norm(input, weight, bias, running_mean, running_var, /*training=*/!track, momentum.value_or(0.0), eps,
                             at::globalContext().userEnabledCuDNN());
  }
  const bool channels_last = input.dim() == 4 && !input.is_contiguous() && input.is_contiguous(at::MemoryFormat::ChannelsLast);
  const auto split = ghost_split(input.size(0), ghost_batch_size);
  const auto k = static_cast<int64_t>(split.size());
  // The leading ghost batches of the common size are normalized together; a last ghost batch of
  // another size (smaller, or one larger when it absorbed a single leftover sample) through a second.
  const int64_t g0 = split.front();
  int64_t n_main = k;
  while (n_main > 0 && split[static_cast<std::size_t>(n_main - 1)] != g0) --n_main;
  // The input itself, or its two pieces from one split: the backward of a split concatenates the
  // pieces' gradients in one pass, where a narrow() per piece would fill a zero tensor of the input's
  // size and copy into it, per piece.
  const std::vector<torch::Tensor> pieces =
      n_main == k ? std::vector<torch::Tensor>{input} : input.split_with_sizes({n_main * g0, input.size(0) - n_main * g0});
  std::vector<GhostOut> parts;
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    parts.push_back(normalize_groups(pieces[i], i == 0 ? n_main : 1, weight, bias, eps));
  }
  if (track) {
    TORCH_CHECK(num_batches_tracked.defined() || momentum, "ghost_batch_norm: momentum None (a cumulative average) needs num_batches_tracked");
    torch::NoGradGuard no_grad;
    // Sequential BatchNorm steps in closed form: weights m (1-m)^(k-1-i) for ghost i, (1-m)^k for the old value.
    std::vector<double> w(static_cast<std::size_t>(k));
    double keep = 1;
    const int64_t seen = num_batches_tracked.defined() ? num_batches_tracked.item<int64_t>() : 0;
    for (int64_t i = k - 1; i >= 0; --i) {
      const double m = momentum ? *momentum : 1.0 / static_cast<double>(seen + i + 1);
      w[static_cast<std::size_t>(i)] = m * keep;
      keep *= 1 - m;
    }
    const auto plain = [&running_mean](const torch::Tensor& t) {
      return t.device().is_cpu() && t.is_contiguous() && t.scalar_type() == running_mean.scalar_type();
    };
    bool cpu = plain(running_mean) && plain(running_var) &&
               (running_mean.scalar_type() == torch::kFloat || running_mean.scalar_type() == torch::kDouble);
    for (const GhostOut& p : parts) cpu = cpu && plain(p.mean) && plain(p.var);
    if (cpu) {
      // In double, in one loop: no small operators (see GhostNormFunction::cpu_forward).
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
    if (num_batches_tracked.defined()) num_batches_tracked.add_(k);
  }
  torch::Tensor y = parts.size() == 1 ? parts[0].y : torch::cat({parts[0].y, parts[1].y}, 0);
  // A channels-last input gets a channels-last output, as from batch norm.
  return channels_last ? y.contiguous(at::MemoryFormat::ChannelsLast) : y;
}

template <size_t D, typename Derived>
torch::Tensor GhostBatchNormImplBase<D, Derived>::forward(const torch::Tensor& input) {
  check_input_dim(input);
  TORCH_CHECK(input.size(1) == options.num_features(), "GhostBatchNorm", D, "d: input has ", input.size(1),
              " channels, expected num_features = ", options.num_features());
  return ghost_batch_norm(input, weight, bias, running_mean, running_var, num_batches_tracked, this->is_training(), options.momentum(),
                          options.eps(), options.ghost_batch_size());
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
