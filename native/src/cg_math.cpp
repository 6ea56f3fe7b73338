// Elementwise arithmetic (with broadcasting and scalars), comparisons and reductions.
#include "cg_common.h"

#define CG_UNARY(name, expr) \
  CG_API int32_t cg_tensor_##name(cg_tensor a, cg_tensor* out) { CG_TRY const at::Tensor& x = cg::T(a); *out = cg::wrap(expr); CG_CATCH }
#define CG_BINARY(name, expr) \
  CG_API int32_t cg_tensor_##name(cg_tensor a, cg_tensor b, cg_tensor* out) { CG_TRY const at::Tensor& x = cg::T(a); const at::Tensor& y = cg::T(b); *out = cg::wrap(expr); CG_CATCH }
#define CG_SCALAR(name, expr) \
  CG_API int32_t cg_tensor_##name(cg_tensor a, double s, cg_tensor* out) { CG_TRY const at::Tensor& x = cg::T(a); *out = cg::wrap(expr); CG_CATCH }
#define CG_INPLACE(name, expr) \
  CG_API int32_t cg_tensor_##name(cg_tensor a, cg_tensor b) { CG_TRY at::Tensor x = cg::T(a); const at::Tensor& y = cg::T(b); expr; CG_CATCH }
#define CG_INPLACE_SCALAR(name, expr) \
  CG_API int32_t cg_tensor_##name(cg_tensor a, double s) { CG_TRY at::Tensor x = cg::T(a); expr; CG_CATCH }

CG_UNARY(neg, x.neg())
CG_UNARY(abs, x.abs())
CG_UNARY(exp, x.exp())
CG_UNARY(log, x.log())
CG_UNARY(log1p, x.log1p())
CG_UNARY(expm1, x.expm1())
CG_UNARY(sqrt, x.sqrt())
CG_UNARY(rsqrt, x.rsqrt())
CG_UNARY(sin, x.sin())
CG_UNARY(cos, x.cos())
CG_UNARY(tanh, x.tanh())
CG_UNARY(sigmoid, x.sigmoid())
CG_UNARY(reciprocal, x.reciprocal())
CG_UNARY(floor, x.floor())
CG_UNARY(ceil, x.ceil())
CG_UNARY(round, x.round())
CG_UNARY(sign, x.sign())
CG_UNARY(erf, x.erf())
CG_UNARY(isnan, x.isnan())
CG_UNARY(isfinite, x.isfinite())
CG_UNARY(logical_not, x.logical_not())

CG_BINARY(add, x.add(y))
CG_BINARY(sub, x.sub(y))
CG_BINARY(mul, x.mul(y))
CG_BINARY(div, x.div(y))
CG_BINARY(pow, x.pow(y))
CG_BINARY(maximum, at::maximum(x, y))
CG_BINARY(minimum, at::minimum(x, y))
CG_BINARY(eq, x.eq(y))
CG_BINARY(ne, x.ne(y))
CG_BINARY(lt, x.lt(y))
CG_BINARY(le, x.le(y))
CG_BINARY(gt, x.gt(y))
CG_BINARY(ge, x.ge(y))
CG_BINARY(logical_and, x.logical_and(y))
CG_BINARY(logical_or, x.logical_or(y))

CG_SCALAR(add_scalar, x.add(s))
CG_SCALAR(sub_scalar, x.sub(s))
CG_SCALAR(mul_scalar, x.mul(s))
CG_SCALAR(div_scalar, x.div(s))
CG_SCALAR(pow_scalar, x.pow(s))
CG_SCALAR(scalar_sub, at::rsub(x, s))                       // s - x
CG_SCALAR(scalar_div, x.reciprocal().mul(s))                // s / x
CG_SCALAR(scalar_pow, at::pow(at::Scalar(s), x))            // s ^ x
CG_SCALAR(eq_scalar, x.eq(s))
CG_SCALAR(ne_scalar, x.ne(s))
CG_SCALAR(lt_scalar, x.lt(s))
CG_SCALAR(le_scalar, x.le(s))
CG_SCALAR(gt_scalar, x.gt(s))
CG_SCALAR(ge_scalar, x.ge(s))

CG_INPLACE(add_, x.add_(y))
CG_INPLACE(sub_, x.sub_(y))
CG_INPLACE(mul_, x.mul_(y))
CG_INPLACE(div_, x.div_(y))
CG_INPLACE_SCALAR(add_scalar_, x.add_(s))
CG_INPLACE_SCALAR(mul_scalar_, x.mul_(s))
CG_INPLACE_SCALAR(fill_, x.fill_(s))

// a + alpha * b, the fused form samplers use for x + dt * d.
CG_API int32_t cg_tensor_add_scaled(cg_tensor a, cg_tensor b, double alpha, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).add(cg::T(b), alpha))
}
CG_API int32_t cg_tensor_add_scaled_(cg_tensor a, cg_tensor b, double alpha) {
  CG_TRY at::Tensor x = cg::T(a); x.add_(cg::T(b), alpha); CG_CATCH
}
CG_API int32_t cg_tensor_lerp(cg_tensor a, cg_tensor b, double weight, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).lerp(cg::T(b), weight))
}

// has_min / has_max select which bounds apply.
CG_API int32_t cg_tensor_clamp(cg_tensor a, int32_t has_min, double min, int32_t has_max, double max, cg_tensor* out) {
  CG_TRY
  c10::optional<at::Scalar> lo = has_min ? c10::optional<at::Scalar>(min) : c10::nullopt;
  c10::optional<at::Scalar> hi = has_max ? c10::optional<at::Scalar>(max) : c10::nullopt;
  *out = cg::wrap(cg::T(a).clamp(lo, hi));
  CG_CATCH
}

CG_API int32_t cg_tensor_where(cg_tensor cond, cg_tensor a, cg_tensor b, cg_tensor* out) {
  CG_RETURN_TENSOR(at::where(cg::T(cond), cg::T(a), cg::T(b)))
}

// Reductions. ndim == 0 (dims null) reduces over every dimension.
CG_API int32_t cg_tensor_sum(cg_tensor a, const int64_t* dims, int32_t ndim, int32_t keepdim, cg_tensor* out) {
  CG_TRY
  const at::Tensor& x = cg::T(a);
  *out = cg::wrap(ndim == 0 ? x.sum() : x.sum(cg::dims(dims, ndim), keepdim != 0));
  CG_CATCH
}
CG_API int32_t cg_tensor_mean(cg_tensor a, const int64_t* dims, int32_t ndim, int32_t keepdim, cg_tensor* out) {
  CG_TRY
  const at::Tensor& x = cg::T(a);
  *out = cg::wrap(ndim == 0 ? x.mean() : x.mean(cg::dims(dims, ndim), keepdim != 0));
  CG_CATCH
}
// correction = 1 is the unbiased (Bessel) estimate, torch's default; 0 the population variance.
CG_API int32_t cg_tensor_var(cg_tensor a, const int64_t* dims, int32_t ndim, int64_t correction, int32_t keepdim,
                             cg_tensor* out) {
  CG_TRY
  const at::Tensor& x = cg::T(a);
  at::OptionalIntArrayRef d = ndim == 0 ? at::OptionalIntArrayRef() : at::OptionalIntArrayRef(cg::dims(dims, ndim));
  *out = cg::wrap(at::var(x, d, c10::optional<int64_t>(correction), keepdim != 0));
  CG_CATCH
}
CG_API int32_t cg_tensor_amax(cg_tensor a, const int64_t* dims, int32_t ndim, int32_t keepdim, cg_tensor* out) {
  CG_TRY
  const at::Tensor& x = cg::T(a);
  *out = cg::wrap(ndim == 0 ? x.max() : x.amax(cg::dims(dims, ndim), keepdim != 0));
  CG_CATCH
}
CG_API int32_t cg_tensor_amin(cg_tensor a, const int64_t* dims, int32_t ndim, int32_t keepdim, cg_tensor* out) {
  CG_TRY
  const at::Tensor& x = cg::T(a);
  *out = cg::wrap(ndim == 0 ? x.min() : x.amin(cg::dims(dims, ndim), keepdim != 0));
  CG_CATCH
}
// has_dim = 0 flattens first, as torch.argmax(x) does.
CG_API int32_t cg_tensor_argmax(cg_tensor a, int32_t has_dim, int64_t dim, int32_t keepdim, cg_tensor* out) {
  CG_TRY
  c10::optional<int64_t> d = has_dim ? c10::optional<int64_t>(dim) : c10::nullopt;
  *out = cg::wrap(cg::T(a).argmax(d, keepdim != 0));
  CG_CATCH
}
CG_API int32_t cg_tensor_argmin(cg_tensor a, int32_t has_dim, int64_t dim, int32_t keepdim, cg_tensor* out) {
  CG_TRY
  c10::optional<int64_t> d = has_dim ? c10::optional<int64_t>(dim) : c10::nullopt;
  *out = cg::wrap(cg::T(a).argmin(d, keepdim != 0));
  CG_CATCH
}
CG_API int32_t cg_tensor_cumsum(cg_tensor a, int64_t dim, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(a).cumsum(dim)) }
