// CPU random generators seeded exactly like torch.manual_seed, so noise matches PyTorch (and ComfyUI) per seed.
// Never lock the generator's mutex around at::randn: ATen takes it itself (non-recursive).
#include "cg_common.h"
#include <ATen/CPUGeneratorImpl.h>

static at::Generator& G(cg_generator g) {
  if (g == nullptr) throw std::invalid_argument("null generator handle");
  return *static_cast<at::Generator*>(g);
}

CG_API int32_t cg_generator_new(uint64_t seed, cg_generator* out) {
  CG_TRY *out = new at::Generator(at::make_generator<at::CPUGeneratorImpl>(seed)); CG_CATCH
}
CG_API int32_t cg_generator_free(cg_generator g) {
  CG_TRY delete static_cast<at::Generator*>(g); CG_CATCH
}
CG_API int32_t cg_generator_set_seed(cg_generator g, uint64_t seed) {
  CG_TRY G(g).set_current_seed(seed); CG_CATCH
}
// The generator's full state (Mersenne Twister + cached normal), so training can resume exactly.
CG_API int32_t cg_generator_get_state(cg_generator g, cg_tensor* out) {
  CG_TRY *out = cg::wrap(G(g).get_state()); CG_CATCH
}
CG_API int32_t cg_generator_set_state(cg_generator g, cg_tensor state) {
  CG_TRY G(g).set_state(cg::T(state)); CG_CATCH
}

// Draws on the CPU (where the generator lives) in the requested dtype, then moves to the device.
CG_API int32_t cg_random_randn(cg_generator g, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t dt, int32_t di,
                               cg_tensor* out) {
  CG_TRY
  at::Tensor r = at::randn(cg::dims(shape, ndim), G(g), at::TensorOptions().dtype(cg::scalar_type(dtype)));
  at::Device dev = cg::device(dt, di);
  *out = cg::wrap(dev.is_cpu() ? r : r.to(dev));
  CG_CATCH
}
CG_API int32_t cg_random_rand(cg_generator g, const int64_t* shape, int32_t ndim, int32_t dtype, int32_t dt, int32_t di,
                              cg_tensor* out) {
  CG_TRY
  at::Tensor r = at::rand(cg::dims(shape, ndim), G(g), at::TensorOptions().dtype(cg::scalar_type(dtype)));
  at::Device dev = cg::device(dt, di);
  *out = cg::wrap(dev.is_cpu() ? r : r.to(dev));
  CG_CATCH
}
// Integers uniformly in [low, high).
CG_API int32_t cg_random_randint(cg_generator g, int64_t low, int64_t high, const int64_t* shape, int32_t ndim,
                                 int32_t dt, int32_t di, cg_tensor* out) {
  CG_TRY
  at::Tensor r = at::randint(low, high, cg::dims(shape, ndim), G(g), at::TensorOptions().dtype(at::kLong));
  at::Device dev = cg::device(dt, di);
  *out = cg::wrap(dev.is_cpu() ? r : r.to(dev));
  CG_CATCH
}
