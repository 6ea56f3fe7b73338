// Gradient checkpointing (torch.utils.checkpoint, reentrant form): a block runs without recording its graph, only its
// inputs are kept, and backward runs the block again with grad on and backpropagates through that fresh graph. The
// block itself is managed code, reached through a callback; its failures come back as a status, never as a throw
// across the boundary.
#include "cg_common.h"
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/custom_function.h>
#include <ATen/autocast_mode.h>

// Runs the block on n borrowed-for-the-call input handles (the callee frees them) and stores one new output handle,
// owned by the caller, in *out. Returns 0, or non-zero when the block failed (the managed side keeps the reason).
typedef int32_t (*cg_block_fn)(void* state, cg_tensor* inputs, int32_t n, cg_tensor* out);
// Frees the managed state once nothing can call the block any more.
typedef void (*cg_release_fn)(void* state);

namespace {

// The block and its state, owned by the graph node that may recompute it; releases the state when the node goes.
struct BlockState : torch::CustomClassHolder {
  BlockState(cg_block_fn f, cg_release_fn r, void* s) : fn(f), release(r), state(s) {}
  ~BlockState() override { if (release != nullptr) release(state); }
  BlockState(const BlockState&) = delete;
  BlockState& operator=(const BlockState&) = delete;
  cg_block_fn fn;
  cg_release_fn release;
  void* state;
};

at::Tensor call_block(cg_block_fn fn, void* state, const std::vector<at::Tensor>& inputs) {
  std::vector<cg_tensor> handles;
  handles.reserve(inputs.size());
  for (const at::Tensor& t : inputs) handles.push_back(cg::wrap(t));
  cg_tensor out = nullptr;
  int32_t status = fn(state, handles.data(), static_cast<int32_t>(handles.size()), &out);
  if (status != 0 || out == nullptr) {
    cg::release(out);
    throw std::runtime_error("checkpointed block failed");
  }
  at::Tensor result = cg::T(out);
  cg::release(out);
  return result;
}

// The autocast state a block ran under, set again while it is recomputed (backward runs outside the forward's scope).
struct AutocastAs {
  AutocastAs(bool cpu, at::ScalarType cpu_dtype, bool gpu, at::ScalarType gpu_dtype)
      : cpu_(at::autocast::is_cpu_enabled()), cpu_dtype_(at::autocast::get_autocast_cpu_dtype()),
        gpu_(at::autocast::is_enabled()), gpu_dtype_(at::autocast::get_autocast_gpu_dtype()) {
    at::autocast::set_cpu_enabled(cpu);
    at::autocast::set_autocast_cpu_dtype(cpu_dtype);
    at::autocast::set_enabled(gpu);
    at::autocast::set_autocast_gpu_dtype(gpu_dtype);
    at::autocast::increment_nesting();
  }
  ~AutocastAs() {
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
    at::autocast::set_cpu_enabled(cpu_);
    at::autocast::set_autocast_cpu_dtype(cpu_dtype_);
    at::autocast::set_enabled(gpu_);
    at::autocast::set_autocast_gpu_dtype(gpu_dtype_);
  }
  AutocastAs(const AutocastAs&) = delete;
  AutocastAs& operator=(const AutocastAs&) = delete;
  bool cpu_;
  at::ScalarType cpu_dtype_;
  bool gpu_;
  at::ScalarType gpu_dtype_;
};

struct CheckpointFunction : public torch::autograd::Function<CheckpointFunction> {
  // anchor is a leaf that requires grad, so the output joins the graph even when no input does (the block's own
  // trainable weights are invisible here); it never receives a gradient.
  static at::Tensor forward(torch::autograd::AutogradContext* ctx, c10::intrusive_ptr<BlockState> block,
                            at::Tensor anchor, at::TensorList inputs) {
    ctx->saved_data["block"] = at::IValue::make_capsule(block);
    ctx->saved_data["cpu_autocast"] = at::autocast::is_cpu_enabled();
    ctx->saved_data["cpu_autocast_dtype"] = static_cast<int64_t>(at::autocast::get_autocast_cpu_dtype());
    ctx->saved_data["gpu_autocast"] = at::autocast::is_enabled();
    ctx->saved_data["gpu_autocast_dtype"] = static_cast<int64_t>(at::autocast::get_autocast_gpu_dtype());
    ctx->save_for_backward(inputs.vec());
    return call_block(block->fn, block->state, inputs.vec());
  }

  static torch::autograd::variable_list backward(torch::autograd::AutogradContext* ctx,
                                                 torch::autograd::variable_list grad_outputs) {
    auto holder = ctx->saved_data["block"].toCapsule();
    auto* block = static_cast<BlockState*>(holder.get());
    std::vector<at::Tensor> inputs;
    for (const at::Tensor& saved : ctx->get_saved_variables()) {
      at::Tensor d = saved.detach();
      d.requires_grad_(saved.requires_grad());
      inputs.push_back(d);
    }
    at::Tensor output;
    {
      c10::AutoGradMode enable(true);
      AutocastAs autocast(ctx->saved_data["cpu_autocast"].toBool(),
                          static_cast<at::ScalarType>(ctx->saved_data["cpu_autocast_dtype"].toInt()),
                          ctx->saved_data["gpu_autocast"].toBool(),
                          static_cast<at::ScalarType>(ctx->saved_data["gpu_autocast_dtype"].toInt()));
      output = call_block(block->fn, block->state, inputs);
    }
    if (output.requires_grad()) torch::autograd::backward({output}, {grad_outputs[0]});
    torch::autograd::variable_list grads{at::Tensor(), at::Tensor()};
    for (const at::Tensor& d : inputs) grads.push_back(d.requires_grad() ? d.grad() : at::Tensor());
    return grads;
  }
};

}  // namespace

// Runs fn(state, inputs) as one checkpointed block. With grad mode off it is a plain call. release(state) is called
// exactly once, when the block can no longer be recomputed: at once without grad or on failure, else when the graph
// holding it is freed (after backward, or when the output is dropped unused).
CG_API int32_t cg_checkpoint(cg_block_fn fn, cg_release_fn release, void* state, const cg_tensor* inputs, int32_t n,
                             cg_tensor* out) {
  CG_TRY
  auto block = c10::make_intrusive<BlockState>(fn, release, state);
  std::vector<at::Tensor> xs;
  xs.reserve(static_cast<size_t>(n));
  for (int32_t i = 0; i < n; ++i) xs.push_back(cg::T(inputs[i]));
  if (!c10::GradMode::is_enabled()) {
    *out = cg::wrap(call_block(fn, state, xs));
  } else {
    at::TensorOptions where = at::TensorOptions().dtype(at::kFloat).device(xs.empty() ? at::Device(at::kCPU) : xs[0].device());
    at::Tensor anchor = at::empty({0}, where).requires_grad_(true);
    *out = cg::wrap(CheckpointFunction::apply(std::move(block), anchor, at::TensorList(xs)));
  }
  CG_CATCH
}
