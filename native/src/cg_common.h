// Shared by every cg_*.cpp: the export macro, status codes, handle helpers and the catch chain.
// No C++ type crosses the boundary: tensors travel as opaque pointers to heap-held at::Tensor.
#pragma once
#include <ATen/ATen.h>
#include <cstdint>
#include <string>
#include <vector>

#define CG_API extern "C" __attribute__((visibility("default")))

// Status codes returned by every export. Mirrored in src/Tensors/Native/NativeStatus.cs.
enum cg_status : int32_t {
  CG_OK = 0,
  CG_ERR_TORCH = 1,          // c10::Error not covered below
  CG_ERR_OUT_OF_MEMORY = 2,  // device or host allocation failed
  CG_ERR_ARGUMENT = 3,       // bad argument: null handle, wrong dtype code, c10 Value/Type/Index errors
  CG_ERR_NOT_IMPLEMENTED = 4,
  CG_ERR_STD = 5,            // another std::exception
  CG_ERR_UNKNOWN = 6,        // anything else thrown
};

typedef void* cg_tensor;     // at::Tensor*
typedef void* cg_generator;  // at::Generator*

namespace cg {

int32_t fail(int32_t status, const char* message);
int64_t live_tensors();

// The caching CPU allocator's freed blocks held for reuse (cg_cpu_allocator.cpp), and emptying them.
size_t cpu_cache_bytes();
void cpu_cache_trim();

// Takes ownership of a result tensor and hands the caller a handle to it.
cg_tensor wrap(at::Tensor t);
void release(cg_tensor h);

inline const at::Tensor& T(cg_tensor h) {
  if (h == nullptr) throw std::invalid_argument("null tensor handle");
  return *static_cast<at::Tensor*>(h);
}
// An optional tensor argument: null means "not given".
inline c10::optional<at::Tensor> opt(cg_tensor h) {
  if (h == nullptr) return c10::nullopt;
  return *static_cast<at::Tensor*>(h);
}
inline at::Tensor undef_or(cg_tensor h) {
  return h == nullptr ? at::Tensor() : *static_cast<at::Tensor*>(h);
}
inline at::IntArrayRef dims(const int64_t* p, int32_t n) { return at::IntArrayRef(p, static_cast<size_t>(n)); }

at::ScalarType scalar_type(int32_t code);
int32_t dtype_code(at::ScalarType t);
at::Device device(int32_t type, int32_t index);
at::TensorOptions options(int32_t dtype, int32_t device_type, int32_t device_index);

}  // namespace cg

// Wraps a function body so that nothing thrown escapes into .NET.
#define CG_TRY try {
#define CG_CATCH                                                                              \
  }                                                                                          \
  catch (const c10::OutOfMemoryError& e) { return cg::fail(CG_ERR_OUT_OF_MEMORY, e.what_without_backtrace()); } \
  catch (const c10::IndexError& e) { return cg::fail(CG_ERR_ARGUMENT, e.what_without_backtrace()); }            \
  catch (const c10::ValueError& e) { return cg::fail(CG_ERR_ARGUMENT, e.what_without_backtrace()); }            \
  catch (const c10::TypeError& e) { return cg::fail(CG_ERR_ARGUMENT, e.what_without_backtrace()); }             \
  catch (const c10::NotImplementedError& e) { return cg::fail(CG_ERR_NOT_IMPLEMENTED, e.what_without_backtrace()); } \
  catch (const c10::Error& e) { return cg::fail(CG_ERR_TORCH, e.what_without_backtrace()); }                   \
  catch (const std::bad_alloc& e) { return cg::fail(CG_ERR_OUT_OF_MEMORY, "host memory allocation failed"); }   \
  catch (const std::invalid_argument& e) { return cg::fail(CG_ERR_ARGUMENT, e.what()); }                        \
  catch (const std::exception& e) { return cg::fail(CG_ERR_STD, e.what()); }                                    \
  catch (...) { return cg::fail(CG_ERR_UNKNOWN, "unknown native exception"); }                                  \
  return CG_OK;

// Body helpers for the common "one tensor out" shape.
#define CG_RETURN_TENSOR(expr) \
  CG_TRY *out = cg::wrap(expr); CG_CATCH
