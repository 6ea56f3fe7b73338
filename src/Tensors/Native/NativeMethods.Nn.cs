using System.Runtime.InteropServices;

namespace CharacterGen.Tensors.Native;

// P/Invoke declarations for native/src/cg_nn.cpp. Every function returns a status (0 = ok); see NativeStatus.
internal static unsafe partial class NativeMethods
{
    [LibraryImport(Lib)] internal static partial int cg_nn_linear(Tensor x, Tensor w, nint b, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_conv2d(Tensor x, Tensor w, nint b, ReadOnlySpan<long> stride, ReadOnlySpan<long> padding, ReadOnlySpan<long> dilation, long groups, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_conv_transpose2d(Tensor x, Tensor w, nint b, ReadOnlySpan<long> stride, ReadOnlySpan<long> padding, ReadOnlySpan<long> output_padding, long groups, ReadOnlySpan<long> dilation, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_group_norm(Tensor x, long groups, nint w, nint b, double eps, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_layer_norm(Tensor x, ReadOnlySpan<long> shape, int ndim, nint w, nint b, double eps, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_silu(Tensor x, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_relu(Tensor x, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_gelu(Tensor x, int approximate, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_softmax(Tensor x, long dim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_log_softmax(Tensor x, long dim, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_avg_pool2d(Tensor x, ReadOnlySpan<long> kernel, ReadOnlySpan<long> stride, ReadOnlySpan<long> padding, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_matmul(Tensor a, Tensor b, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_bmm(Tensor a, Tensor b, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_baddbmm(Tensor input, Tensor b1, Tensor b2, double beta, double alpha, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_interpolate(Tensor x, int mode, long out_h, long out_w, double scale_h, double scale_w, int align_corners, int antialias, out nint @out);
    [LibraryImport(Lib)] internal static partial int cg_nn_pad(Tensor x, ReadOnlySpan<long> pads, int n, int mode, double value, out nint @out);
}
