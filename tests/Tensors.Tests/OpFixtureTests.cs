using CharacterGen.Tensors;

namespace CharacterGen.Tensors.Tests;

/// <summary>
/// Every op against PyTorch 1.13's result for the same inputs (Fixtures/make_op_fixtures.py). The shim calls the
/// same libtorch kernels, so tolerances are tight: they catch wrong arguments (a swapped stride, a wrong mode).
/// </summary>
public sealed class OpFixtureTests
{
    private static readonly Dictionary<string, Func<Tensor[], Tensor>> Ops = new()
    {
        ["add_broadcast"] = t => t[0] + t[1],
        ["sub"] = t => t[0] - t[1],
        ["mul"] = t => t[0] * t[1],
        ["div"] = t => t[0] / t[1],
        ["exp"] = t => t[0].Exp(),
        ["log"] = t => t[0].Log(),
        ["sqrt"] = t => t[0].Sqrt(),
        ["pow_scalar"] = t => t[0].Pow(1.7),
        ["sin"] = t => t[0].Sin(),
        ["cos"] = t => t[0].Cos(),
        ["clamp"] = t => t[0].Clamp(-0.5, 0.7),
        ["where"] = t => t[0].To(DType.Bool).Where(t[1], t[2]),
        ["sum_dim"] = t => t[0].Sum(0, 2),
        ["mean_keepdim"] = t => t[0].Mean([1], keepDim: true),
        ["var_unbiased"] = t => t[0].Var([1, 2]),
        ["argmax_dim"] = t => t[0].Argmax(2),
        ["argmin_all"] = t => t[0].Argmin().Reshape(1),
        ["linear"] = t => F.Linear(t[0], t[1], t[2]),
        ["conv2d_s2_p1_g2"] = t => F.Conv2d(t[0], t[1], t[2], stride: 2, padding: 1, groups: 2),
        ["conv_transpose2d"] = t => F.ConvTranspose2d(t[0], t[1], t[2], stride: 2, padding: 1),
        ["group_norm"] = t => F.GroupNorm(t[0], 4, t[1], t[2], 1e-6),
        ["layer_norm"] = t => F.LayerNorm(t[0], [16], t[1], t[2]),
        ["silu"] = t => F.Silu(t[0]),
        ["gelu"] = t => F.Gelu(t[0]),
        ["gelu_tanh"] = t => F.Gelu(t[0], tanhApproximation: true),
        ["softmax"] = t => F.Softmax(t[0], -1),
        ["attention"] = t => F.ScaledDotProductAttention(t[0], t[1], t[2]),
        ["attention_mask"] = t => F.ScaledDotProductAttention(t[0], t[1], t[2], mask: t[3]),
        ["attention_causal"] = t => F.ScaledDotProductAttention(t[0], t[0], t[0], causal: true),
        ["interp_nearest"] = t => F.Interpolate(t[0], 8, 11, InterpolationMode.Nearest),
        ["interp_nearest_exact"] = t => F.Interpolate(t[0], 8, 11, InterpolationMode.NearestExact),
        ["interp_bilinear"] = t => F.Interpolate(t[0], 8, 11, InterpolationMode.Bilinear),
        ["interp_bilinear_ac"] = t => F.Interpolate(t[0], 8, 11, InterpolationMode.Bilinear, alignCorners: true),
        ["interp_bicubic"] = t => F.Interpolate(t[0], 8, 11, InterpolationMode.Bicubic),
        ["interp_bicubic_aa"] = t => F.Interpolate(t[0], 3, 4, InterpolationMode.Bicubic, antialias: true),
        ["interp_bilinear_aa"] = t => F.Interpolate(t[0], 3, 4, InterpolationMode.Bilinear, antialias: true),
        ["interp_area"] = t => F.Interpolate(t[0], 3, 4, InterpolationMode.Area),
        ["interp_nearest_scale"] = t => F.Interpolate(t[0], 1.5, InterpolationMode.Nearest),
        ["pad_constant"] = t => F.Pad(t[0], [1, 2, 0, 3], PaddingMode.Constant, 0.5),
        ["pad_reflect"] = t => F.Pad(t[0], [2, 1, 1, 2], PaddingMode.Reflect),
        ["pad_replicate"] = t => F.Pad(t[0], [2, 1, 1, 2], PaddingMode.Replicate),
        ["matmul"] = t => F.Matmul(t[0], t[1]),
        ["bmm"] = t => F.Bmm(t[0], t[1]),
        ["baddbmm"] = t => F.Baddbmm(t[0], t[1], t[2], beta: 0.5, alpha: 2.0),
        ["avg_pool2d"] = t => F.AvgPool2d(t[0], 2, 2),
        ["permute"] = t => t[0].Permute(2, 0, 1).Contiguous(),
        ["transpose"] = t => t[0].Transpose(0, 2).Contiguous(),
        ["narrow"] = t => t[0].Narrow(2, 1, 2).Contiguous(),
        ["cat_dim1"] = t => Torch.Cat([t[0], t[1]], 1),
        ["stack_dim0"] = t => Torch.Stack([t[0], t[1]], 0),
        ["index_select"] = t => t[0].IndexSelect(1, t[1]),
        ["expand"] = t => t[0].Expand(3, 4).Contiguous(),
        ["to_f16"] = t => t[0].To(DType.Float16),
        ["to_bf16"] = t => t[0].To(DType.BFloat16),
        ["arange"] = _ => Torch.Arange(0.5, 7.0, 0.75),
        ["linspace"] = _ => Torch.Linspace(-1.0, 2.0, 9),
    };

    public static IEnumerable<string> Cases => Ops.Keys;

    [TestCaseSource(nameof(Cases))]
    public void MatchesPyTorch(string name)
    {
        using var scope = Torch.NewScope();
        var inputs = Enumerable.Range(0, 8).Select(i => $"{name}.in{i}").TakeWhile(OpFixture.File.Contains)
            .Select(OpFixture.Get).ToArray();
        Tensor expected = OpFixture.Out(name);
        Tensor actual = Ops[name](inputs);
        Assert.That(actual.DType, Is.EqualTo(expected.DType), "dtype");
        TensorAssert.Close(actual, expected, rtol: 1e-5, atol: 1e-6, what: name);
    }

    [Test]
    public void FixtureHasACaseForEveryOpAndNoUntestedOnes()
    {
        var inFile = OpFixture.File.Entries.Select(e => e.Name).Where(n => n.EndsWith(".out", StringComparison.Ordinal))
            .Select(n => n[..^4]).Where(n => !n.StartsWith("grad_", StringComparison.Ordinal) && !n.StartsWith("adamw_", StringComparison.Ordinal));
        Assert.That(inFile, Is.EquivalentTo(Ops.Keys));
    }

    [Test]
    public void ChunkAndSplitCoverTheTensorInOrder()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.Arange(0, 10);
        Tensor[] chunks = x.Chunk(3);
        Assert.That(chunks.Select(c => c.NumElements), Is.EqualTo(new long[] { 4, 4, 2 }));
        Assert.That(Torch.Cat(chunks).ToArray<float>(), Is.EqualTo(x.ToArray<float>()));
        Tensor[] parts = x.Split([1, 6, 3]);
        Assert.That(parts[1].ToArray<float>(), Is.EqualTo(new float[] { 1, 2, 3, 4, 5, 6 }));
    }

    [Test]
    public void SliceSelectSqueezeAndFlattenFollowPyTorch()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.Arange(0, 24).Reshape(2, 3, 4);
        Assert.That(x.Slice(2, 1, 100, 2).ToArray<float>(), Is.EqualTo(new float[] { 1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23 }));
        Assert.That(x.Select(1, 2).Shape, Is.EqualTo(new long[] { 2, 4 }));
        Assert.That(x.Unsqueeze(0).Squeeze(0).Shape, Is.EqualTo(new long[] { 2, 3, 4 }));
        Assert.That(x.Flatten(1).Shape, Is.EqualTo(new long[] { 2, 12 }));
        Assert.That(x.Flip(2).Select(0, 0).Select(0, 0).Select(0, 0).Item(), Is.EqualTo(3));
        Assert.That(Torch.Ones([3, 3]).Triu(1).Sum().Item(), Is.EqualTo(3));
    }

    [Test]
    public void ScalarOperatorsAndInPlaceOpsAgree()
    {
        using var scope = Torch.NewScope();
        Tensor x = Torch.FromArray([1f, 2f, 4f]);
        Assert.That((2 - x).ToArray<float>(), Is.EqualTo(new[] { 1f, 0f, -2f }));
        Assert.That((8 / x).ToArray<float>(), Is.EqualTo(new[] { 8f, 4f, 2f }));
        Assert.That((x * 3 + 1).ToArray<float>(), Is.EqualTo(new[] { 4f, 7f, 13f }));
        Tensor y = x.Clone();
        y.Add_(x, 0.5).Mul_(2);
        Assert.That(y.ToArray<float>(), Is.EqualTo(new[] { 3f, 6f, 12f }));
        Assert.That(x.ToArray<float>(), Is.EqualTo(new[] { 1f, 2f, 4f }), "clone is independent");
    }

    [Test]
    public void HostRoundTripOfEveryDType()
    {
        using var scope = Torch.NewScope();
        Assert.That(Torch.FromArray(new double[] { 1.5, -2 }).ToArray<double>(), Is.EqualTo(new[] { 1.5, -2 }));
        Assert.That(Torch.FromArray(new long[] { long.MaxValue, -1 }).ToArray<long>(), Is.EqualTo(new[] { long.MaxValue, -1 }));
        Assert.That(Torch.FromArray(new int[] { 7 }).ToArray<int>(), Is.EqualTo(new[] { 7 }));
        Assert.That(Torch.FromArray(new short[] { -3 }).ToArray<short>(), Is.EqualTo(new short[] { -3 }));
        Assert.That(Torch.FromArray(new sbyte[] { -128 }).ToArray<sbyte>(), Is.EqualTo(new sbyte[] { -128 }));
        Assert.That(Torch.FromArray(new byte[] { 255 }).ToArray<byte>(), Is.EqualTo(new byte[] { 255 }));
        Assert.That(Torch.FromArray(new[] { true, false }).ToArray<bool>(), Is.EqualTo(new[] { true, false }));
        Assert.That(Torch.FromArray(new[] { (Half)0.5 }).ToArray<Half>(), Is.EqualTo(new[] { (Half)0.5 }));
        Tensor bf = Torch.FromArray([1.5f, -3f]).To(DType.BFloat16);
        Assert.That(bf.DType, Is.EqualTo(DType.BFloat16));
        Assert.That(bf.ToBytes(), Is.EqualTo(new byte[] { 0xC0, 0x3F, 0x40, 0xC0 }), "bf16 is the high half of the float32 bits");
    }
}
