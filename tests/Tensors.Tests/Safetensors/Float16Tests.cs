using System.Runtime.InteropServices;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

public sealed class Float16Tests
{
    [Test]
    public void HalfWidensExactly()
    {
        Half[] values = [(Half)1, (Half)(-2.5), Half.MaxValue, Half.Epsilon, Half.NegativeInfinity, (Half)0.1f];
        var bytes = MemoryMarshal.AsBytes(values.AsSpan()).ToArray();
        var dst = new float[values.Length];

        Float16.HalfToFloat32(bytes, dst);

        Assert.That(dst, Is.EqualTo(values.Select(v => (float)v)));
        Assert.That(dst[2], Is.EqualTo(65504f));
        Assert.That(dst[3], Is.EqualTo(MathF.ScaleB(1, -24)));
    }

    [Test]
    public void BFloat16IsTheHighHalfOfAFloat()
    {
        // 0x3F80 = 1.0, 0xC020 = -2.5, 0x7F80 = +inf, 0x0001 = smallest subnormal 2^-133.
        byte[] bytes = [0x80, 0x3F, 0x20, 0xC0, 0x80, 0x7F, 0x01, 0x00, 0xC1, 0x7F];
        var dst = new float[5];

        Float16.BFloat16ToFloat32(bytes, dst);

        Assert.That(dst[..4], Is.EqualTo(new[] { 1f, -2.5f, float.PositiveInfinity, MathF.ScaleB(1, -133) }));
        Assert.That(float.IsNaN(dst[4]));
    }

    [Test]
    public void OddByteCountsAndShortDestinationsAreRefused()
    {
        Assert.Throws<ArgumentException>(() => Float16.HalfToFloat32(new byte[3], new float[2]));
        Assert.Throws<ArgumentException>(() => Float16.BFloat16ToFloat32(new byte[4], new float[1]));
    }
}
