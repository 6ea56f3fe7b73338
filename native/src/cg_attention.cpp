// The one attention entry point: softmax(Q Kᵀ · scale + mask) V over [batch, heads, tokens, dim].
// libtorch 2.x: the fused scaled_dot_product_attention kernel. 1.13 has no public fused kernel, so we
// compute it explicitly, in query chunks so that the score matrix stays bounded at large resolutions.
#include "cg_common.h"
#include <cmath>

namespace {

// Score matrices above this many elements are computed a query chunk at a time (256 MiB in fp32).
constexpr int64_t kMaxScoreElements = int64_t(64) << 20;

at::Tensor math_attention(const at::Tensor& q, const at::Tensor& k, const at::Tensor& v,
                          const c10::optional<at::Tensor>& mask, double scale) {
  at::Tensor kt = k.transpose(-2, -1);
  auto block = [&](const at::Tensor& qc, const c10::optional<at::Tensor>& m) {
    at::Tensor s = at::matmul(qc, kt);
    s.mul_(scale);
    if (m.has_value()) {
      if (m->scalar_type() == at::kBool) s.masked_fill_(m->logical_not(), -std::numeric_limits<float>::infinity());
      else s.add_(*m);
    }
    // Softmax in float32 even for half inputs, as the fused kernels do.
    at::Tensor p = s.scalar_type() == at::kFloat || s.scalar_type() == at::kDouble
                       ? at::softmax(s, -1)
                       : at::softmax(s, -1, at::kFloat).to(s.scalar_type());
    return at::matmul(p, v);
  };
  int64_t lq = q.size(-2), lk = k.size(-2);
  int64_t batch = q.numel() / std::max<int64_t>(1, lq * q.size(-1));
  int64_t per_query = batch * lk;
  if (per_query * lq <= kMaxScoreElements || lq <= 1) return block(q, mask);
  int64_t chunk = std::max<int64_t>(1, kMaxScoreElements / std::max<int64_t>(1, per_query));
  std::vector<at::Tensor> parts;
  for (int64_t s = 0; s < lq; s += chunk) {
    int64_t len = std::min(chunk, lq - s);
    c10::optional<at::Tensor> m;
    // A mask that varies along the query axis is sliced with the queries; a broadcast one is reused.
    if (mask.has_value()) m = mask->size(-2) == 1 ? *mask : mask->narrow(-2, s, len);
    parts.push_back(block(q.narrow(-2, s, len), m));
  }
  return at::cat(parts, -2);
}

}  // namespace

// mask: null, a boolean mask (true = attend) or an additive float mask, broadcastable to [B, H, Lq, Lk].
// scale <= 0 selects 1/sqrt(head dim).
CG_API int32_t cg_nn_attention(cg_tensor q, cg_tensor k, cg_tensor v, cg_tensor mask, double scale, int32_t causal,
                               cg_tensor* out) {
  CG_TRY
  const at::Tensor& Q = cg::T(q);
  const at::Tensor& K = cg::T(k);
  const at::Tensor& V = cg::T(v);
  double s = scale > 0 ? scale : 1.0 / std::sqrt(static_cast<double>(Q.size(-1)));
  c10::optional<at::Tensor> m = cg::opt(mask);
  if (causal) {
    at::Tensor c = at::ones({Q.size(-2), K.size(-2)}, Q.options().dtype(at::kBool)).tril();
    m = m.has_value() ? c10::optional<at::Tensor>(m->scalar_type() == at::kBool ? m->logical_and(c)
                                                                                : m->masked_fill(c.logical_not(), -INFINITY))
                      : c10::optional<at::Tensor>(c);
  }
#ifdef CG_HAS_SDPA
  *out = cg::wrap(at::scaled_dot_product_attention(Q, K, V, m, 0.0, false, s));
#else
  *out = cg::wrap(math_attention(Q, K, V, m, s));
#endif
  CG_CATCH
}
