// Autograd: requires_grad, backward, gradients, grad/inference modes, and the AdamW update LoRA training uses.
#include "cg_common.h"
#include <c10/core/GradMode.h>
#include <c10/core/InferenceMode.h>
#include <cmath>

CG_API int32_t cg_tensor_set_requires_grad(cg_tensor t, int32_t flag) {
  CG_TRY at::Tensor x = cg::T(t); x.requires_grad_(flag != 0); CG_CATCH
}

// grad may be null for a scalar loss (d loss / d loss = 1).
CG_API int32_t cg_autograd_backward(cg_tensor loss, cg_tensor grad) {
  CG_TRY cg::T(loss).backward(cg::undef_or(grad), /*retain_graph=*/c10::nullopt, /*create_graph=*/false); CG_CATCH
}

// *out is null when the tensor has no gradient yet.
CG_API int32_t cg_tensor_grad(cg_tensor t, cg_tensor* out) {
  CG_TRY
  const at::Tensor& g = cg::T(t).grad();
  *out = g.defined() ? cg::wrap(g) : nullptr;
  CG_CATCH
}

CG_API int32_t cg_tensor_zero_grad(cg_tensor t) {
  CG_TRY at::Tensor x = cg::T(t); x.mutable_grad() = at::Tensor(); CG_CATCH
}

// Grad mode is thread-local in libtorch; the C# side calls this on the job's worker thread.
CG_API int32_t cg_autograd_set_grad_enabled(int32_t enabled) {
  CG_TRY c10::GradMode::set_enabled(enabled != 0); CG_CATCH
}
CG_API int32_t cg_autograd_is_grad_enabled(int32_t* out) {
  CG_TRY *out = c10::GradMode::is_enabled() ? 1 : 0; CG_CATCH
}

// Inference mode is an RAII guard: enter returns it, exit (on the same thread) destroys it.
CG_API int32_t cg_autograd_inference_mode_enter(void** guard) {
  CG_TRY *guard = new c10::InferenceMode(true); CG_CATCH
}
CG_API int32_t cg_autograd_inference_mode_exit(void* guard) {
  CG_TRY delete static_cast<c10::InferenceMode*>(guard); CG_CATCH
}

// One AdamW step (decoupled weight decay, Loshchilov & Hutter; torch.optim.AdamW without amsgrad) over n
// parameters with their first/second moment buffers. step is 1-based. Parameters without a gradient are skipped.
CG_API int32_t cg_optim_adamw_step(const cg_tensor* params, const cg_tensor* exp_avg, const cg_tensor* exp_avg_sq,
                                   int32_t n, int64_t step, double lr, double beta1, double beta2, double eps,
                                   double weight_decay) {
  CG_TRY
  if (step < 1) throw std::invalid_argument("AdamW step count starts at 1");
  c10::AutoGradMode no_grad(false);
  double bias1 = 1.0 - std::pow(beta1, static_cast<double>(step));
  double bias2_sqrt = std::sqrt(1.0 - std::pow(beta2, static_cast<double>(step)));
  for (int32_t i = 0; i < n; ++i) {
    at::Tensor p = cg::T(params[i]);
    const at::Tensor& g = p.grad();
    if (!g.defined()) continue;
    at::Tensor m = cg::T(exp_avg[i]);
    at::Tensor v = cg::T(exp_avg_sq[i]);
    p.mul_(1.0 - lr * weight_decay);
    m.mul_(beta1).add_(g, 1.0 - beta1);
    v.mul_(beta2).addcmul_(g, g, 1.0 - beta2);
    at::Tensor denom = (v.sqrt() / bias2_sqrt).add_(eps);
    p.addcdiv_(m, denom, -lr / bias1);
  }
  CG_CATCH
}
