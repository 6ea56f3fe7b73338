// Tensor lifetime, metadata, creation and host <-> tensor copies.
#include "cg_common.h"
#include <cstring>

CG_API int32_t cg_tensor_free(cg_tensor t) {
  CG_TRY cg::release(t); CG_CATCH
}

// One call for everything the C# side caches about a tensor: dtype, device and shape.
// shape must hold up to `cap` dims; *ndim receives the true rank (callers retry if it exceeds cap).
CG_API int32_t cg_tensor_info(cg_tensor t, int32_t* dtype, int32_t* device_type, int32_t* device_index,
                              int64_t* shape, int32_t cap, int32_t* ndim) {
  CG_TRY
  const at::Tensor& x = cg::T(t);
  *dtype = cg::dtype_code(x.scalar_type());
  *device_type = x.is_cuda() ? 1 : 0;
  *device_index = x.is_cuda() ? x.get_device() : -1;
  *ndim = static_cast<int32_t>(x.dim());
  for (int32_t i = 0; i < *ndim && i < cap; ++i) shape[i] = x.size(i);
  CG_CATCH
}

CG_API int32_t cg_tensor_requires_grad(cg_tensor t, int32_t* out) {
  CG_TRY *out = cg::T(t).requires_grad() ? 1 : 0; CG_CATCH
}

CG_API int32_t cg_tensor_is_contiguous(cg_tensor t, int32_t* out) {
  CG_TRY *out = cg::T(t).is_contiguous() ? 1 : 0; CG_CATCH
}

// Copies nbytes of host memory into a new tensor of the given dtype, shape and device.
CG_API int32_t cg_tensor_from_buffer(const void* data, int64_t nbytes, int32_t dtype, const int64_t* shape,
                                     int32_t ndim, int32_t device_type, int32_t device_index, cg_tensor* out) {
  CG_TRY
  at::Tensor cpu = at::empty(cg::dims(shape, ndim), at::TensorOptions().dtype(cg::scalar_type(dtype)));
  if (static_cast<int64_t>(cpu.nbytes()) != nbytes)
    throw std::invalid_argument("buffer holds " + std::to_string(nbytes) + " bytes but the shape needs " +
                                std::to_string(cpu.nbytes()));
  if (nbytes > 0) std::memcpy(cpu.data_ptr(), data, static_cast<size_t>(nbytes));
  at::Device dev = cg::device(device_type, device_index);
  *out = cg::wrap(dev.is_cpu() ? cpu : cpu.to(dev));
  CG_CATCH
}

// Copies a tensor's elements (in row-major order, any device) into host memory of exactly nbytes.
CG_API int32_t cg_tensor_to_buffer(cg_tensor t, void* data, int64_t nbytes) {
  CG_TRY
  at::Tensor x = cg::T(t).detach().to(at::kCPU).contiguous();
  if (static_cast<int64_t>(x.nbytes()) != nbytes)
    throw std::invalid_argument("tensor holds " + std::to_string(x.nbytes()) + " bytes but the buffer has " +
                                std::to_string(nbytes));
  if (nbytes > 0) std::memcpy(data, x.data_ptr(), static_cast<size_t>(nbytes));
  CG_CATCH
}

CG_API int32_t cg_tensor_item_double(cg_tensor t, double* out) {
  CG_TRY *out = cg::T(t).item<double>(); CG_CATCH
}

CG_API int32_t cg_tensor_empty(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t dt, int32_t di, cg_tensor* out) {
  CG_RETURN_TENSOR(at::empty(cg::dims(shape, ndim), cg::options(dtype, dt, di)))
}
CG_API int32_t cg_tensor_zeros(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t dt, int32_t di, cg_tensor* out) {
  CG_RETURN_TENSOR(at::zeros(cg::dims(shape, ndim), cg::options(dtype, dt, di)))
}
CG_API int32_t cg_tensor_ones(const int64_t* shape, int32_t ndim, int32_t dtype, int32_t dt, int32_t di, cg_tensor* out) {
  CG_RETURN_TENSOR(at::ones(cg::dims(shape, ndim), cg::options(dtype, dt, di)))
}
CG_API int32_t cg_tensor_full(const int64_t* shape, int32_t ndim, double value, int32_t dtype, int32_t dt, int32_t di,
                              cg_tensor* out) {
  CG_RETURN_TENSOR(at::full(cg::dims(shape, ndim), value, cg::options(dtype, dt, di)))
}
CG_API int32_t cg_tensor_arange(double start, double end, double step, int32_t dtype, int32_t dt, int32_t di, cg_tensor* out) {
  CG_RETURN_TENSOR(at::arange(start, end, step, cg::options(dtype, dt, di)))
}
CG_API int32_t cg_tensor_linspace(double start, double end, int64_t steps, int32_t dtype, int32_t dt, int32_t di,
                                  cg_tensor* out) {
  CG_RETURN_TENSOR(at::linspace(start, end, steps, cg::options(dtype, dt, di)))
}
CG_API int32_t cg_tensor_zeros_like(cg_tensor t, cg_tensor* out) { CG_RETURN_TENSOR(at::zeros_like(cg::T(t))) }
CG_API int32_t cg_tensor_ones_like(cg_tensor t, cg_tensor* out) { CG_RETURN_TENSOR(at::ones_like(cg::T(t))) }
CG_API int32_t cg_tensor_full_like(cg_tensor t, double v, cg_tensor* out) { CG_RETURN_TENSOR(at::full_like(cg::T(t), v)) }

// Conversion: dtype < 0 keeps the dtype; device_type < 0 keeps the device.
CG_API int32_t cg_tensor_to(cg_tensor t, int32_t dtype, int32_t device_type, int32_t device_index, int32_t non_blocking,
                            cg_tensor* out) {
  CG_TRY
  const at::Tensor& x = cg::T(t);
  at::ScalarType st = dtype < 0 ? x.scalar_type() : cg::scalar_type(dtype);
  at::Device dev = device_type < 0 ? x.device() : cg::device(device_type, device_index);
  *out = cg::wrap(x.to(dev, st, non_blocking != 0, /*copy=*/false));
  CG_CATCH
}

CG_API int32_t cg_tensor_clone(cg_tensor t, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(t).clone()) }
CG_API int32_t cg_tensor_detach(cg_tensor t, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(t).detach()) }
CG_API int32_t cg_tensor_alias(cg_tensor t, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(t)) }

// In-place copy of src into dst (broadcasting, converting dtype/device).
CG_API int32_t cg_tensor_copy_(cg_tensor dst, cg_tensor src) {
  CG_TRY at::Tensor d = cg::T(dst); d.copy_(cg::T(src)); CG_CATCH
}

// Address of a contiguous CPU tensor's first element, so a loader can read file bytes straight into it.
CG_API int32_t cg_tensor_data_ptr(cg_tensor t, void** out) {
  CG_TRY
  const at::Tensor& x = cg::T(t);
  if (!x.is_cpu() || !x.is_contiguous()) throw std::invalid_argument("data_ptr needs a contiguous CPU tensor");
  *out = x.data_ptr();
  CG_CATCH
}
