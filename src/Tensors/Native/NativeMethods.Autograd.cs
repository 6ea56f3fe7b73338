using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_autograd.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_tensor_set_requires_grad(Tensor t, int flag);
    [LibraryImport(Lib)] internal static partial int cg_autograd_backward(Tensor loss, nint grad);
    [LibraryImport(Lib)] internal static partial int cg_tensor_grad(Tensor t, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_tensor_zero_grad(Tensor t);
    [LibraryImport(Lib)] internal static partial int cg_autograd_set_grad_enabled(int enabled);
    [LibraryImport(Lib)] internal static partial int cg_autograd_is_grad_enabled(out int @out);
    [LibraryImport(Lib)] internal static partial int cg_autograd_inference_mode_enter(out nint guard);
    [LibraryImport(Lib)] internal static partial int cg_autograd_inference_mode_exit(nint guard);
    [LibraryImport(Lib)] internal static partial int cg_optim_adamw_step(ReadOnlySpan<nint> @params, ReadOnlySpan<nint> exp_avg, ReadOnlySpan<nint> exp_avg_sq, int n, long step, double lr, double beta1, double beta2, double eps, double weight_decay);
}

// native/src/cg_checkpoint.cpp
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_checkpoint(delegate* unmanaged[Cdecl]<nint, nint*, int, nint*, int> fn, delegate* unmanaged[Cdecl]<nint, void> release, nint state, ReadOnlySpan<nint> inputs, int n, out nint @out);
}

// native/src/cg_autocast.cpp
internal static partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_autocast_enter(int device_type, int dtype, out nint guard);
    [LibraryImport(Lib)] internal static partial int cg_autocast_exit(nint guard);
    [LibraryImport(Lib)] internal static partial int cg_autocast_is_enabled(int device_type, out int @out);
}
