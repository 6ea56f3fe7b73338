using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests.Safetensors;

public sealed class Float8Tests
{
    // e4m3fn: S.EEEE.MMM, bias 7, no infinities, only S.1111.111 is NaN.
    [TestCase(0x00, 0f)]
    [TestCase(0x38, 1f)]          // 0.0111.000 = 2^0
    [TestCase(0xB8, -1f)]
    [TestCase(0x40, 2f)]          // 0.1000.000
    [TestCase(0x3C, 1.5f)]        // 0.0111.100
    [TestCase(0x7E, 448f)]        // 0.1111.110 = 1.75 · 2^8, the largest finite value
    [TestCase(0xFE, -448f)]
    [TestCase(0x78, 256f)]        // 0.1111.000: exponent 15 is ordinary, not infinity
    [TestCase(0x08, 0.015625f)]   // 0.0001.000 = 2^-6, smallest normal
    [TestCase(0x01, 0.001953125f)]// 0.0000.001 = 2^-9, smallest subnormal
    [TestCase(0x07, 0.013671875f)]// 0.0000.111 = 7 · 2^-9
    public void E4M3FnKnownValues(int bits, float expected)
    {
        Assert.That(Float8.DecodeE4M3Fn((byte)bits), Is.EqualTo(expected));
    }

    [Test]
    public void E4M3FnHasExactlyTwoNaNsAndNoInfinities()
    {
        var values = Enumerable.Range(0, 256).Select(b => Float8.DecodeE4M3Fn((byte)b)).ToArray();
        Assert.That(Enumerable.Range(0, 256).Where(b => float.IsNaN(values[b])), Is.EqualTo(new[] { 0x7F, 0xFF }));
        Assert.That(values.Any(float.IsInfinity), Is.False);
        Assert.That(values.Where(float.IsFinite).Max(), Is.EqualTo(Float8.E4M3FnMax));
        Assert.That(float.IsNegative(Float8.DecodeE4M3Fn(0x80)) && Float8.DecodeE4M3Fn(0x80) == 0f, "0x80 is -0");
    }

    [TestCase(0x3C, 1f)]          // 0.01111.00
    [TestCase(0xBC, -1f)]
    [TestCase(0x7B, 57344f)]      // 0.11110.11 = 1.75 · 2^15, the largest finite value
    [TestCase(0x04, 6.103515625e-05f)] // 2^-14, smallest normal
    [TestCase(0x01, 1.52587890625e-05f)] // 2^-16, smallest subnormal
    [TestCase(0x7C, float.PositiveInfinity)]
    [TestCase(0xFC, float.NegativeInfinity)]
    public void E5M2KnownValues(int bits, float expected)
    {
        Assert.That(Float8.DecodeE5M2((byte)bits), Is.EqualTo(expected));
    }

    [Test]
    public void E5M2IsTheHighByteOfAHalf()
    {
        // An independent oracle: e5m2 is binary16 with the low 8 mantissa bits dropped.
        for (int bits = 0; bits < 256; bits++)
        {
            float expected = (float)BitConverter.UInt16BitsToHalf((ushort)(bits << 8));
            float actual = Float8.DecodeE5M2((byte)bits);
            Assert.That(BitConverter.SingleToInt32Bits(actual), Is.EqualTo(BitConverter.SingleToInt32Bits(expected)).Or.Matches<int>(_ => float.IsNaN(expected) && float.IsNaN(actual)), $"0x{bits:X2}");
        }
    }

    [Test]
    public void PositiveCodesIncreaseMonotonically()
    {
        // Both formats order like sign-magnitude integers: catches a wrong bias or subnormal rule.
        var e4m3 = Enumerable.Range(0, 0x7F).Select(b => Float8.DecodeE4M3Fn((byte)b)).ToArray();
        var e5m2 = Enumerable.Range(0, 0x7D).Select(b => Float8.DecodeE5M2((byte)b)).ToArray();
        Assert.That(e4m3, Is.Ordered.Ascending.And.Unique);
        Assert.That(e5m2, Is.Ordered.Ascending.And.Unique);
    }

    [Test]
    public void DecodeToFloat32UsesTheDTypesTable()
    {
        byte[] src = [0x38, 0x7E, 0x01, 0xFF];
        var dst = new float[4];

        Float8.DecodeToFloat32(src, dst, SafetensorsDType.F8E4M3);
        Assert.That(dst[..3], Is.EqualTo(new[] { 1f, 448f, MathF.ScaleB(1, -9) }));
        Assert.That(float.IsNaN(dst[3]));

        Float8.DecodeToFloat32([0x3C, 0x7B, 0x7C], dst, SafetensorsDType.F8E5M2);
        Assert.That(dst[..3], Is.EqualTo(new[] { 1f, 57344f, float.PositiveInfinity }));

        Assert.Throws<ArgumentException>(() => Float8.DecodeToFloat32(src, dst, SafetensorsDType.F16));
        Assert.Throws<ArgumentException>(() => Float8.DecodeToFloat32(src, new float[3], SafetensorsDType.F8E4M3));
    }
}
