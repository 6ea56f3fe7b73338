using CharacterGen.Tensors.Native;
using static CharacterGen.Tensors.Native.NativeMethods;

namespace CharacterGen.Tensors;

public enum InterpolationMode
{
    Nearest = 0,
    NearestExact = 1,
    Bilinear = 2,
    Bicubic = 3,
    Area = 4,
}

public enum PaddingMode
{
    Constant = 0,
    Reflect = 1,
    Replicate = 2,
}

/// <summary>Functional neural-network ops, as torch.nn.functional (plus matmul and the attention entry point).</summary>
public static class F
{
    private static Tensor R(int status, nint handle) => Tensor.FromNative(status, handle);

    /// <summary>x · Wᵀ + b.</summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias = null)
    {
        using var b = new BorrowedHandle(bias);
        return R(cg_nn_linear(x, weight, b.Handle, out nint r), r);
    }

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0, int dilation = 1, int groups = 1) =>
        Conv2d(x, weight, bias, (stride, stride), (padding, padding), (dilation, dilation), groups);

    public static Tensor Conv2d(Tensor x, Tensor weight, Tensor? bias, (int H, int W) stride, (int H, int W) padding,
        (int H, int W) dilation, int groups = 1)
    {
        using var b = new BorrowedHandle(bias);
        return R(cg_nn_conv2d(x, weight, b.Handle, [stride.H, stride.W], [padding.H, padding.W], [dilation.H, dilation.W], groups, out nint r), r);
    }

    public static Tensor ConvTranspose2d(Tensor x, Tensor weight, Tensor? bias = null, int stride = 1, int padding = 0,
        int outputPadding = 0, int groups = 1, int dilation = 1)
    {
        using var b = new BorrowedHandle(bias);
        return R(cg_nn_conv_transpose2d(x, weight, b.Handle, [stride, stride], [padding, padding], [outputPadding, outputPadding],
            groups, [dilation, dilation], out nint r), r);
    }

    public static Tensor GroupNorm(Tensor x, int groups, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        using var w = new BorrowedHandle(weight);
        using var b = new BorrowedHandle(bias);
        return R(cg_nn_group_norm(x, groups, w.Handle, b.Handle, eps, out nint r), r);
    }

    /// <summary>Normalises over the last dims given by <paramref name="normalizedShape"/>.</summary>
    public static Tensor LayerNorm(Tensor x, long[] normalizedShape, Tensor? weight = null, Tensor? bias = null, double eps = 1e-5)
    {
        using var w = new BorrowedHandle(weight);
        using var b = new BorrowedHandle(bias);
        return R(cg_nn_layer_norm(x, normalizedShape, normalizedShape.Length, w.Handle, b.Handle, eps, out nint r), r);
    }

    public static Tensor Silu(Tensor x) => R(cg_nn_silu(x, out nint r), r);
    public static Tensor Relu(Tensor x) => R(cg_nn_relu(x, out nint r), r);
    /// <summary>GELU, exact (erf) or with the tanh approximation.</summary>
    public static Tensor Gelu(Tensor x, bool tanhApproximation = false) => R(cg_nn_gelu(x, tanhApproximation ? 1 : 0, out nint r), r);
    public static Tensor Softmax(Tensor x, long dim) => R(cg_nn_softmax(x, dim, out nint r), r);
    public static Tensor LogSoftmax(Tensor x, long dim) => R(cg_nn_log_softmax(x, dim, out nint r), r);

    public static Tensor AvgPool2d(Tensor x, int kernel, int stride, int padding = 0) =>
        R(cg_nn_avg_pool2d(x, [kernel, kernel], [stride, stride], [padding, padding], out nint r), r);

    public static Tensor Matmul(Tensor a, Tensor b) => R(cg_nn_matmul(a, b, out nint r), r);
    public static Tensor Bmm(Tensor a, Tensor b) => R(cg_nn_bmm(a, b, out nint r), r);
    /// <summary>beta · input + alpha · (b1 @ b2), batched.</summary>
    public static Tensor Baddbmm(Tensor input, Tensor b1, Tensor b2, double beta = 1, double alpha = 1) =>
        R(cg_nn_baddbmm(input, b1, b2, beta, alpha, out nint r), r);

    /// <summary>
    /// softmax(Q Kᵀ · scale + mask) V over [batch, heads, tokens, head_dim]. A bool mask is true where attention is allowed;
    /// a float mask is added to the scores. Fused kernel on libtorch 2.x, chunked math on 1.13.
    /// </summary>
    public static Tensor ScaledDotProductAttention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, double? scale = null, bool causal = false)
    {
        using var m = new BorrowedHandle(mask);
        return R(cg_nn_attention(q, k, v, m.Handle, scale ?? 0, causal ? 1 : 0, out nint r), r);
    }

    /// <summary>Resizes an NCHW tensor to (height, width).</summary>
    public static Tensor Interpolate(Tensor x, long height, long width, InterpolationMode mode = InterpolationMode.Nearest,
        bool alignCorners = false, bool antialias = false) =>
        R(cg_nn_interpolate(x, (int)mode, height, width, 0, 0, alignCorners ? 1 : 0, antialias ? 1 : 0, out nint r), r);

    /// <summary>
    /// Resizes by a scale factor: the output is floor(size · scale), and the factor is passed to the kernel as
    /// torch.nn.functional.interpolate(scale_factor=…) does, which matters for the nearest modes.
    /// </summary>
    public static Tensor Interpolate(Tensor x, double scale, InterpolationMode mode = InterpolationMode.Nearest,
        bool alignCorners = false, bool antialias = false)
    {
        long h = (long)Math.Floor(x.Size(2) * scale), w = (long)Math.Floor(x.Size(3) * scale);
        return R(cg_nn_interpolate(x, (int)mode, h, w, scale, scale, alignCorners ? 1 : 0, antialias ? 1 : 0, out nint r), r);
    }

    /// <summary>Pads as torch.nn.functional.pad: pads = (left, right, top, bottom, …) starting from the last dim.</summary>
    public static Tensor Pad(Tensor x, long[] pads, PaddingMode mode = PaddingMode.Constant, double value = 0) =>
        R(cg_nn_pad(x, pads, pads.Length, (int)mode, value, out nint r), r);

    /// <summary>Mean squared error over all elements.</summary>
    public static Tensor MseLoss(Tensor input, Tensor target)
    {
        using var scope = Torch.NewScope();
        return (input - target).Square().Mean().MoveToOuterScope();
    }
}
