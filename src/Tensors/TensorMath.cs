using CharacterGen.Tensors.Native;
using static CharacterGen.Tensors.Native.NativeMethods;

namespace CharacterGen.Tensors;

/// <summary>Elementwise arithmetic with broadcasting, comparisons, and reductions, named as in PyTorch.</summary>
public sealed partial class Tensor
{
    private static Tensor R(int status, nint handle) => FromNative(status, handle);

    public Tensor Neg() => R(cg_tensor_neg(this, out nint r), r);
    public Tensor Abs() => R(cg_tensor_abs(this, out nint r), r);
    public Tensor Exp() => R(cg_tensor_exp(this, out nint r), r);
    public Tensor Log() => R(cg_tensor_log(this, out nint r), r);
    public Tensor Log1p() => R(cg_tensor_log1p(this, out nint r), r);
    public Tensor Expm1() => R(cg_tensor_expm1(this, out nint r), r);
    public Tensor Sqrt() => R(cg_tensor_sqrt(this, out nint r), r);
    public Tensor Rsqrt() => R(cg_tensor_rsqrt(this, out nint r), r);
    public Tensor Sin() => R(cg_tensor_sin(this, out nint r), r);
    public Tensor Cos() => R(cg_tensor_cos(this, out nint r), r);
    public Tensor Tanh() => R(cg_tensor_tanh(this, out nint r), r);
    public Tensor Sigmoid() => R(cg_tensor_sigmoid(this, out nint r), r);
    public Tensor Reciprocal() => R(cg_tensor_reciprocal(this, out nint r), r);
    public Tensor Floor() => R(cg_tensor_floor(this, out nint r), r);
    public Tensor Ceil() => R(cg_tensor_ceil(this, out nint r), r);
    public Tensor Round() => R(cg_tensor_round(this, out nint r), r);
    public Tensor Sign() => R(cg_tensor_sign(this, out nint r), r);
    public Tensor Erf() => R(cg_tensor_erf(this, out nint r), r);
    public Tensor IsNan() => R(cg_tensor_isnan(this, out nint r), r);
    public Tensor IsFinite() => R(cg_tensor_isfinite(this, out nint r), r);
    public Tensor LogicalNot() => R(cg_tensor_logical_not(this, out nint r), r);
    public Tensor Square() => R(cg_tensor_mul(this, this, out nint r), r);

    public Tensor Add(Tensor other) => R(cg_tensor_add(this, other, out nint r), r);
    /// <summary>this + alpha · other in one op (torch.add with alpha).</summary>
    public Tensor Add(Tensor other, double alpha) => R(cg_tensor_add_scaled(this, other, alpha, out nint r), r);
    public Tensor Sub(Tensor other) => R(cg_tensor_sub(this, other, out nint r), r);
    public Tensor Mul(Tensor other) => R(cg_tensor_mul(this, other, out nint r), r);
    public Tensor Div(Tensor other) => R(cg_tensor_div(this, other, out nint r), r);
    public Tensor Pow(Tensor exponent) => R(cg_tensor_pow(this, exponent, out nint r), r);
    public Tensor Pow(double exponent) => R(cg_tensor_pow_scalar(this, exponent, out nint r), r);
    public Tensor Maximum(Tensor other) => R(cg_tensor_maximum(this, other, out nint r), r);
    public Tensor Minimum(Tensor other) => R(cg_tensor_minimum(this, other, out nint r), r);
    /// <summary>this + weight · (end − this).</summary>
    public Tensor Lerp(Tensor end, double weight) => R(cg_tensor_lerp(this, end, weight, out nint r), r);

    public Tensor Eq(Tensor o) => R(cg_tensor_eq(this, o, out nint r), r);
    public Tensor Ne(Tensor o) => R(cg_tensor_ne(this, o, out nint r), r);
    public Tensor Lt(Tensor o) => R(cg_tensor_lt(this, o, out nint r), r);
    public Tensor Le(Tensor o) => R(cg_tensor_le(this, o, out nint r), r);
    public Tensor Gt(Tensor o) => R(cg_tensor_gt(this, o, out nint r), r);
    public Tensor Ge(Tensor o) => R(cg_tensor_ge(this, o, out nint r), r);
    public Tensor Eq(double s) => R(cg_tensor_eq_scalar(this, s, out nint r), r);
    public Tensor Ne(double s) => R(cg_tensor_ne_scalar(this, s, out nint r), r);
    public Tensor Lt(double s) => R(cg_tensor_lt_scalar(this, s, out nint r), r);
    public Tensor Le(double s) => R(cg_tensor_le_scalar(this, s, out nint r), r);
    public Tensor Gt(double s) => R(cg_tensor_gt_scalar(this, s, out nint r), r);
    public Tensor Ge(double s) => R(cg_tensor_ge_scalar(this, s, out nint r), r);
    public Tensor LogicalAnd(Tensor o) => R(cg_tensor_logical_and(this, o, out nint r), r);
    public Tensor LogicalOr(Tensor o) => R(cg_tensor_logical_or(this, o, out nint r), r);

    public Tensor Clamp(double? min = null, double? max = null) =>
        R(cg_tensor_clamp(this, min.HasValue ? 1 : 0, min ?? 0, max.HasValue ? 1 : 0, max ?? 0, out nint r), r);

    /// <summary>Elements of <paramref name="a"/> where this (bool) is true, else of <paramref name="b"/>.</summary>
    public Tensor Where(Tensor a, Tensor b) => R(cg_tensor_where(this, a, b, out nint r), r);

    // In place: these modify this tensor and return it.
    public Tensor Add_(Tensor o) { NativeStatus.Check(cg_tensor_add_(this, o)); return this; }
    public Tensor Add_(Tensor o, double alpha) { NativeStatus.Check(cg_tensor_add_scaled_(this, o, alpha)); return this; }
    public Tensor Sub_(Tensor o) { NativeStatus.Check(cg_tensor_sub_(this, o)); return this; }
    public Tensor Mul_(Tensor o) { NativeStatus.Check(cg_tensor_mul_(this, o)); return this; }
    public Tensor Div_(Tensor o) { NativeStatus.Check(cg_tensor_div_(this, o)); return this; }
    public Tensor Add_(double s) { NativeStatus.Check(cg_tensor_add_scalar_(this, s)); return this; }
    public Tensor Mul_(double s) { NativeStatus.Check(cg_tensor_mul_scalar_(this, s)); return this; }
    public Tensor Fill_(double s) { NativeStatus.Check(cg_tensor_fill_(this, s)); return this; }
    public Tensor Copy_(Tensor src) { NativeStatus.Check(cg_tensor_copy_(this, src)); return this; }

    // Reductions; no dims means all dimensions.
    public Tensor Sum(params long[] dims) => Sum(dims, keepDim: false);
    public Tensor Sum(long[] dims, bool keepDim) => R(cg_tensor_sum(this, dims, dims.Length, keepDim ? 1 : 0, out nint r), r);
    public Tensor Mean(params long[] dims) => Mean(dims, keepDim: false);
    public Tensor Mean(long[] dims, bool keepDim) => R(cg_tensor_mean(this, dims, dims.Length, keepDim ? 1 : 0, out nint r), r);
    /// <summary>Variance; correction 1 (the default, as in torch) is the unbiased estimate.</summary>
    public Tensor Var(long[] dims, long correction = 1, bool keepDim = false) =>
        R(cg_tensor_var(this, dims, dims.Length, correction, keepDim ? 1 : 0, out nint r), r);
    public Tensor Amax(long[] dims, bool keepDim = false) => R(cg_tensor_amax(this, dims, dims.Length, keepDim ? 1 : 0, out nint r), r);
    public Tensor Amin(long[] dims, bool keepDim = false) => R(cg_tensor_amin(this, dims, dims.Length, keepDim ? 1 : 0, out nint r), r);
    public Tensor Max() => Amax([]);
    public Tensor Min() => Amin([]);
    public Tensor Argmax(long? dim = null, bool keepDim = false) =>
        R(cg_tensor_argmax(this, dim.HasValue ? 1 : 0, dim ?? 0, keepDim ? 1 : 0, out nint r), r);
    public Tensor Argmin(long? dim = null, bool keepDim = false) =>
        R(cg_tensor_argmin(this, dim.HasValue ? 1 : 0, dim ?? 0, keepDim ? 1 : 0, out nint r), r);
    public Tensor Cumsum(long dim) => R(cg_tensor_cumsum(this, dim, out nint r), r);

    public static Tensor operator -(Tensor a) => a.Neg();
    public static Tensor operator +(Tensor a, Tensor b) => a.Add(b);
    public static Tensor operator -(Tensor a, Tensor b) => a.Sub(b);
    public static Tensor operator *(Tensor a, Tensor b) => a.Mul(b);
    public static Tensor operator /(Tensor a, Tensor b) => a.Div(b);
    public static Tensor operator +(Tensor a, double s) => R(cg_tensor_add_scalar(a, s, out nint r), r);
    public static Tensor operator +(double s, Tensor a) => a + s;
    public static Tensor operator -(Tensor a, double s) => R(cg_tensor_sub_scalar(a, s, out nint r), r);
    public static Tensor operator -(double s, Tensor a) => R(cg_tensor_scalar_sub(a, s, out nint r), r);
    public static Tensor operator *(Tensor a, double s) => R(cg_tensor_mul_scalar(a, s, out nint r), r);
    public static Tensor operator *(double s, Tensor a) => a * s;
    public static Tensor operator /(Tensor a, double s) => R(cg_tensor_div_scalar(a, s, out nint r), r);
    public static Tensor operator /(double s, Tensor a) => R(cg_tensor_scalar_div(a, s, out nint r), r);
}
