using CharacterGen.GraphRuntime.Execution;

namespace CharacterGen.GraphRuntime.Tests;

public class SipHash128Tests
{
    // Key 00 01 .. 0f, as in the reference implementation's test vectors (vectors_sip128).
    private static readonly SipHash128 Reference = new(0x0706050403020100UL, 0x0f0e0d0c0b0a0908UL);

    [Test]
    public void Matches_the_reference_vector_for_the_empty_message()
    {
        var (low, high) = Reference.Hash([]);
        Assert.That((low, high), Is.EqualTo((0xe6a825ba047f81a3UL, 0x930255c71472f66dUL)));
    }

    [Test]
    public void Every_length_and_byte_matters_and_the_key_matters()
    {
        var seen = new HashSet<(ulong, ulong)>();
        var message = Enumerable.Range(0, 64).Select(i => (byte)i).ToArray();
        for (var length = 0; length <= message.Length; length++)
            Assert.That(seen.Add(Reference.Hash(message.AsSpan(0, length))), $"length {length}");
        var flipped = (byte[])message.Clone();
        flipped[17] ^= 1;
        Assert.That(Reference.Hash(flipped), Is.Not.EqualTo(Reference.Hash(message)));
        Assert.That(new SipHash128(1, 2).Hash(message), Is.Not.EqualTo(Reference.Hash(message)));
    }
}
