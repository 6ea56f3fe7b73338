// Neural-network functional ops: the layers a UNet, CLIP text model and VAE are made of.
#include "cg_common.h"

CG_API int32_t cg_nn_linear(cg_tensor x, cg_tensor w, cg_tensor b, cg_tensor* out) {
  CG_RETURN_TENSOR(at::linear(cg::T(x), cg::T(w), cg::opt(b)))
}

// stride, padding and dilation are (h, w) pairs.
CG_API int32_t cg_nn_conv2d(cg_tensor x, cg_tensor w, cg_tensor b, const int64_t* stride, const int64_t* padding,
                            const int64_t* dilation, int64_t groups, cg_tensor* out) {
  CG_RETURN_TENSOR(at::conv2d(cg::T(x), cg::T(w), cg::opt(b), cg::dims(stride, 2), cg::dims(padding, 2),
                              cg::dims(dilation, 2), groups))
}

CG_API int32_t cg_nn_conv_transpose2d(cg_tensor x, cg_tensor w, cg_tensor b, const int64_t* stride,
                                      const int64_t* padding, const int64_t* output_padding, int64_t groups,
                                      const int64_t* dilation, cg_tensor* out) {
  CG_RETURN_TENSOR(at::conv_transpose2d(cg::T(x), cg::T(w), cg::opt(b), cg::dims(stride, 2), cg::dims(padding, 2),
                                        cg::dims(output_padding, 2), groups, cg::dims(dilation, 2)))
}

CG_API int32_t cg_nn_group_norm(cg_tensor x, int64_t groups, cg_tensor w, cg_tensor b, double eps, cg_tensor* out) {
  CG_RETURN_TENSOR(at::group_norm(cg::T(x), groups, cg::opt(w), cg::opt(b), eps, /*cudnn_enabled=*/true))
}

CG_API int32_t cg_nn_layer_norm(cg_tensor x, const int64_t* shape, int32_t ndim, cg_tensor w, cg_tensor b, double eps,
                                cg_tensor* out) {
  CG_RETURN_TENSOR(at::layer_norm(cg::T(x), cg::dims(shape, ndim), cg::opt(w), cg::opt(b), eps, true))
}

CG_API int32_t cg_nn_silu(cg_tensor x, cg_tensor* out) { CG_RETURN_TENSOR(at::silu(cg::T(x))) }
CG_API int32_t cg_nn_relu(cg_tensor x, cg_tensor* out) { CG_RETURN_TENSOR(at::relu(cg::T(x))) }

// approximate: 0 = exact (erf), 1 = tanh approximation.
CG_API int32_t cg_nn_gelu(cg_tensor x, int32_t approximate, cg_tensor* out) {
  CG_RETURN_TENSOR(at::gelu(cg::T(x), approximate ? "tanh" : "none"))
}
CG_API int32_t cg_nn_softmax(cg_tensor x, int64_t dim, cg_tensor* out) { CG_RETURN_TENSOR(at::softmax(cg::T(x), dim)) }
CG_API int32_t cg_nn_log_softmax(cg_tensor x, int64_t dim, cg_tensor* out) {
  CG_RETURN_TENSOR(at::log_softmax(cg::T(x), dim))
}

CG_API int32_t cg_nn_avg_pool2d(cg_tensor x, const int64_t* kernel, const int64_t* stride, const int64_t* padding,
                                cg_tensor* out) {
  CG_RETURN_TENSOR(at::avg_pool2d(cg::T(x), cg::dims(kernel, 2), cg::dims(stride, 2), cg::dims(padding, 2)))
}

CG_API int32_t cg_nn_matmul(cg_tensor a, cg_tensor b, cg_tensor* out) { CG_RETURN_TENSOR(at::matmul(cg::T(a), cg::T(b))) }
CG_API int32_t cg_nn_bmm(cg_tensor a, cg_tensor b, cg_tensor* out) { CG_RETURN_TENSOR(at::bmm(cg::T(a), cg::T(b))) }
// beta * input + alpha * (b1 @ b2), batched.
CG_API int32_t cg_nn_baddbmm(cg_tensor input, cg_tensor b1, cg_tensor b2, double beta, double alpha, cg_tensor* out) {
  CG_RETURN_TENSOR(at::baddbmm(cg::T(input), cg::T(b1), cg::T(b2), beta, alpha))
}

// mode: 0 nearest, 1 nearest-exact, 2 bilinear, 3 bicubic, 4 area (adaptive average pooling).
// scale_h / scale_w <= 0 mean "computed from the sizes"; when the caller resized by a scale factor it passes the
// factor, as torch.nn.functional.interpolate does, because nearest modes map coordinates with it.
CG_API int32_t cg_nn_interpolate(cg_tensor x, int32_t mode, int64_t out_h, int64_t out_w, double scale_h,
                                 double scale_w, int32_t align_corners, int32_t antialias, cg_tensor* out) {
  CG_TRY
  const at::Tensor& in = cg::T(x);
  if (in.dim() != 4) throw std::invalid_argument("interpolate expects an NCHW tensor, got " + std::to_string(in.dim()) + " dims");
  std::vector<int64_t> size{out_h, out_w};
  c10::optional<double> sh = scale_h > 0 ? c10::optional<double>(scale_h) : c10::nullopt;
  c10::optional<double> sw = scale_w > 0 ? c10::optional<double>(scale_w) : c10::nullopt;
  bool ac = align_corners != 0;
  at::Tensor r;
  switch (mode) {
    case 0: r = at::upsample_nearest2d(in, size, sh, sw); break;
    case 1: r = at::_upsample_nearest_exact2d(in, size, sh, sw); break;
    case 2: r = antialias ? at::_upsample_bilinear2d_aa(in, size, ac, sh, sw) : at::upsample_bilinear2d(in, size, ac, sh, sw); break;
    case 3: r = antialias ? at::_upsample_bicubic2d_aa(in, size, ac, sh, sw) : at::upsample_bicubic2d(in, size, ac, sh, sw); break;
    case 4: r = at::adaptive_avg_pool2d(in, size); break;
    default: throw std::invalid_argument("unknown interpolation mode " + std::to_string(mode));
  }
  *out = cg::wrap(r);
  CG_CATCH
}

// pads: (left, right, top, bottom, ...) as torch.nn.functional.pad. mode: 0 constant, 1 reflect, 2 replicate.
CG_API int32_t cg_nn_pad(cg_tensor x, const int64_t* pads, int32_t n, int32_t mode, double value, cg_tensor* out) {
  CG_TRY
  const at::Tensor& in = cg::T(x);
  at::IntArrayRef p = cg::dims(pads, n);
  at::Tensor r;
  if (mode == 0) {
    r = at::constant_pad_nd(in, p, value);
  } else if (mode == 1 || mode == 2) {
    bool reflect = mode == 1;
    switch (n) {
      case 2: r = reflect ? at::reflection_pad1d(in, p) : at::replication_pad1d(in, p); break;
      case 4: r = reflect ? at::reflection_pad2d(in, p) : at::replication_pad2d(in, p); break;
      case 6: r = reflect ? at::reflection_pad3d(in, p) : at::replication_pad3d(in, p); break;
      default: throw std::invalid_argument("reflect/replicate padding takes 2, 4 or 6 values");
    }
  } else {
    throw std::invalid_argument("unknown padding mode " + std::to_string(mode));
  }
  *out = cg::wrap(r);
  CG_CATCH
}
