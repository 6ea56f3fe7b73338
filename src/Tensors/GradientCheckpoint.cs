using System.Runtime.CompilerServices;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using CharacterGen.Tensors.Native;

namespace CharacterGen.Tensors;

/// <summary>
/// Gradient checkpointing (torch.utils.checkpoint, reentrant): <see cref="Run"/> computes a block without keeping its
/// intermediate activations; the backward pass recomputes the block from its saved inputs and backpropagates through
/// that. Trades one extra forward per block for the memory of its activations. The block must be deterministic
/// (same inputs → same output), as a UNet block without dropout is.
/// </summary>
public static unsafe class GradientCheckpoint
{
    // A block that failed while being recomputed in backward (on this thread, as CPU backward runs on the caller's):
    // Autograd.Backward rethrows it, so a cancel inside a block stays an OperationCanceledException.
    [ThreadStatic] private static ExceptionDispatchInfo? t_blockFailure;

    /// <summary>
    /// Returns block(inputs). With grad mode on, the output joins the graph and gradients reach the inputs that require
    /// them and every trainable tensor the block uses; with grad off it is a plain call. The block gets fresh aliases of
    /// the inputs, which it must not keep; it may run again (on the backward thread) until the graph is freed. An
    /// exception of the block is rethrown as itself, by this call or by the backward pass that recomputed it.
    /// </summary>
    public static Tensor Run(Func<Tensor[], Tensor> block, params Tensor[] inputs)
    {
        ArgumentNullException.ThrowIfNull(block);
        var call = new BlockCall(block);
        nint state = GCHandle.ToIntPtr(GCHandle.Alloc(call));
        Span<nint> handles = inputs.Length <= 16 ? stackalloc nint[inputs.Length] : new nint[inputs.Length];
        bool[] added = new bool[inputs.Length];
        try
        {
            for (int i = 0; i < inputs.Length; i++)
            {
                inputs[i].DangerousAddRef(ref added[i]);
                handles[i] = inputs[i].DangerousGetHandle();
            }
            // The native side owns state from here: it releases it exactly once, even when the call fails.
            int status = NativeMethods.cg_checkpoint(&Invoke, &Release, state, handles, inputs.Length, out nint r);
            t_blockFailure = null;
            call.Failure?.Throw();
            return Tensor.FromNative(status, r);
        }
        finally
        {
            for (int i = 0; i < inputs.Length; i++)
                if (added[i]) inputs[i].DangerousRelease();
        }
    }

    private sealed class BlockCall(Func<Tensor[], Tensor> block)
    {
        public Func<Tensor[], Tensor> Block { get; } = block;

        // The first failure of a forward call, rethrown by Run; a failure during backward surfaces as the native error.
        public ExceptionDispatchInfo? Failure { get; set; }
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static int Invoke(nint state, nint* inputs, int n, nint* output)
    {
        *output = 0;
        var call = (BlockCall)GCHandle.FromIntPtr(state).Target!;
        try
        {
            using var scope = Torch.NewScope();
            var xs = new Tensor[n];
            for (int i = 0; i < n; i++) xs[i] = Tensor.FromNative(0, inputs[i]);
            Tensor result = call.Block(xs);
            NativeStatus.Check(NativeMethods.cg_tensor_alias(result, out nint alias));
            *output = alias;
            return 0;
        }
        catch (Exception e)
        {
            call.Failure ??= ExceptionDispatchInfo.Capture(e);
            t_blockFailure ??= call.Failure;
            return 1;
        }
    }

    /// <summary>Forgets an earlier block failure on this thread (before a backward pass).</summary>
    internal static void ClearBlockFailure() => t_blockFailure = null;

    /// <summary>After a failed backward pass: throws the block's own exception if a recomputed block caused it.</summary>
    internal static void RethrowBlockFailure()
    {
        ExceptionDispatchInfo? failure = t_blockFailure;
        t_blockFailure = null;
        failure?.Throw();
    }

    [UnmanagedCallersOnly(CallConvs = [typeof(CallConvCdecl)])]
    private static void Release(nint state) => GCHandle.FromIntPtr(state).Free();
}
