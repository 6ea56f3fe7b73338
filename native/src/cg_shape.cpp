// Views, shape changes, joins and splits.
#include "cg_common.h"

static std::vector<at::Tensor> tensor_list(const cg_tensor* items, int32_t n) {
  std::vector<at::Tensor> v;
  v.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) v.push_back(cg::T(items[i]));
  return v;
}

CG_API int32_t cg_tensor_reshape(cg_tensor a, const int64_t* shape, int32_t ndim, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).reshape(cg::dims(shape, ndim)))
}
CG_API int32_t cg_tensor_permute(cg_tensor a, const int64_t* order, int32_t ndim, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).permute(cg::dims(order, ndim)))
}
CG_API int32_t cg_tensor_transpose(cg_tensor a, int64_t d0, int64_t d1, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).transpose(d0, d1))
}
CG_API int32_t cg_tensor_narrow(cg_tensor a, int64_t dim, int64_t start, int64_t length, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).narrow(dim, start, length))
}
CG_API int32_t cg_tensor_slice(cg_tensor a, int64_t dim, int64_t start, int64_t end, int64_t step, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).slice(dim, start, end, step))
}
CG_API int32_t cg_tensor_select(cg_tensor a, int64_t dim, int64_t index, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).select(dim, index))
}
CG_API int32_t cg_tensor_expand(cg_tensor a, const int64_t* shape, int32_t ndim, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).expand(cg::dims(shape, ndim)))
}
CG_API int32_t cg_tensor_repeat(cg_tensor a, const int64_t* repeats, int32_t ndim, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).repeat(cg::dims(repeats, ndim)))
}
CG_API int32_t cg_tensor_contiguous(cg_tensor a, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(a).contiguous()) }
CG_API int32_t cg_tensor_squeeze(cg_tensor a, int64_t dim, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(a).squeeze(dim)) }
CG_API int32_t cg_tensor_unsqueeze(cg_tensor a, int64_t dim, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(a).unsqueeze(dim)) }
CG_API int32_t cg_tensor_flatten(cg_tensor a, int64_t start, int64_t end, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).flatten(start, end))
}
CG_API int32_t cg_tensor_flip(cg_tensor a, const int64_t* dims, int32_t ndim, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).flip(cg::dims(dims, ndim)))
}
CG_API int32_t cg_tensor_index_select(cg_tensor a, int64_t dim, cg_tensor index, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).index_select(dim, cg::T(index)))
}
CG_API int32_t cg_tensor_gather(cg_tensor a, int64_t dim, cg_tensor index, cg_tensor* out) {
  CG_RETURN_TENSOR(cg::T(a).gather(dim, cg::T(index)))
}
CG_API int32_t cg_tensor_triu(cg_tensor a, int64_t diagonal, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(a).triu(diagonal)) }
CG_API int32_t cg_tensor_tril(cg_tensor a, int64_t diagonal, cg_tensor* out) { CG_RETURN_TENSOR(cg::T(a).tril(diagonal)) }

CG_API int32_t cg_tensor_cat(const cg_tensor* items, int32_t n, int64_t dim, cg_tensor* out) {
  CG_RETURN_TENSOR(at::cat(tensor_list(items, n), dim))
}
CG_API int32_t cg_tensor_stack(const cg_tensor* items, int32_t n, int64_t dim, cg_tensor* out) {
  CG_RETURN_TENSOR(at::stack(tensor_list(items, n), dim))
}

// Splits into at most `chunks` views; out must hold `chunks` handles, *count receives how many were made.
CG_API int32_t cg_tensor_chunk(cg_tensor a, int64_t chunks, int64_t dim, cg_tensor* out, int32_t* count) {
  CG_TRY
  std::vector<at::Tensor> parts = cg::T(a).chunk(chunks, dim);
  *count = static_cast<int32_t>(parts.size());
  for (size_t i = 0; i < parts.size(); ++i) out[i] = cg::wrap(parts[i]);
  CG_CATCH
}

// Splits into pieces of the given sizes along dim; out must hold n handles.
CG_API int32_t cg_tensor_split_sizes(cg_tensor a, const int64_t* sizes, int32_t n, int64_t dim, cg_tensor* out) {
  CG_TRY
  std::vector<at::Tensor> parts = cg::T(a).split_with_sizes(cg::dims(sizes, n), dim);
  for (size_t i = 0; i < parts.size(); ++i) out[i] = cg::wrap(parts[i]);
  CG_CATCH
}
