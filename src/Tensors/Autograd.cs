using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>Gradients: backward passes and the thread-local grad and inference modes.</summary>
public static class Autograd
{
    /// <summary>Whether operations on this thread record the autograd graph.</summary>
    public static bool IsGradEnabled
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_autograd_is_grad_enabled(out int r));
            return r != 0;
        }
    }

    /// <summary>Disables gradient recording on this thread until disposed (torch.no_grad()).</summary>
    public static GradModeScope NoGrad() => new(enabled: false);

    /// <summary>Enables gradient recording on this thread until disposed (torch.enable_grad()).</summary>
    public static GradModeScope EnableGrad() => new(enabled: true);

    /// <summary>libtorch's inference mode on this thread until disposed: faster than no-grad, tensors made in it never need grads.</summary>
    public static InferenceModeScope InferenceMode() => new();

    /// <summary>Accumulates d(output)/d(leaf) into every leaf that requires grad. A scalar output needs no gradient argument.</summary>
    public static void Backward(Tensor output, Tensor? gradient = null)
    {
        using var g = new BorrowedHandle(gradient);
        GradientCheckpoint.ClearBlockFailure();
        int status = NativeMethods.cg_autograd_backward(output, g.Handle);
        if (status != NativeStatus.Ok) GradientCheckpoint.RethrowBlockFailure();
        NativeStatus.Check(status);
    }

    public readonly struct GradModeScope : IDisposable
    {
        private readonly bool _previous;

        internal GradModeScope(bool enabled)
        {
            _previous = IsGradEnabled;
            NativeStatus.Check(NativeMethods.cg_autograd_set_grad_enabled(enabled ? 1 : 0));
        }

        public void Dispose() => NativeStatus.Check(NativeMethods.cg_autograd_set_grad_enabled(_previous ? 1 : 0));
    }

    public sealed class InferenceModeScope : IDisposable
    {
        private nint _guard;

        internal InferenceModeScope() => NativeStatus.Check(NativeMethods.cg_autograd_inference_mode_enter(out _guard));

        public void Dispose()
        {
            if (_guard == 0) return;
            NativeStatus.Check(NativeMethods.cg_autograd_inference_mode_exit(_guard));
            _guard = 0;
        }
    }
}

public sealed partial class Tensor
{
    /// <summary>The accumulated gradient, or null before any backward pass reached this tensor.</summary>
    public Tensor? Grad
    {
        get
        {
            NativeStatus.Check(NativeMethods.cg_tensor_grad(this, out nint h));
            return h == 0 ? null : FromNative(NativeStatus.Ok, h);
        }
    }

    /// <summary>Drops the accumulated gradient (set_to_none, as torch's zero_grad does by default).</summary>
    public void ZeroGrad() => NativeStatus.Check(NativeMethods.cg_tensor_zero_grad(this));

    public void Backward(Tensor? gradient = null) => Autograd.Backward(this, gradient);
}
