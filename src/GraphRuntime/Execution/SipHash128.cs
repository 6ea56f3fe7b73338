using System.Buffers.Binary;
using System.Numerics;
using System.Security.Cryptography;

namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// SipHash-2-4 with a 128-bit output (Aumasson and Bernstein), keyed with a per-process random key.
/// Cache keys need collision resistance against clients who might craft a workflow to collide with
/// another's; a keyed PRF gives that without the per-call cost of OpenSSL's SHA-256 (≈1 µs per node).
/// </summary>
internal sealed class SipHash128
{
    private readonly ulong _k0;
    private readonly ulong _k1;

    public SipHash128(ulong k0, ulong k1)
    {
        _k0 = k0;
        _k1 = k1;
    }

    public static SipHash128 WithRandomKey()
    {
        Span<byte> key = stackalloc byte[16];
        RandomNumberGenerator.Fill(key);
        return new SipHash128(BinaryPrimitives.ReadUInt64LittleEndian(key), BinaryPrimitives.ReadUInt64LittleEndian(key[8..]));
    }

    public (ulong Low, ulong High) Hash(ReadOnlySpan<byte> data)
    {
        var v0 = _k0 ^ 0x736f6d6570736575UL;
        var v1 = (_k1 ^ 0x646f72616e646f6dUL) ^ 0xee; // the 128-bit variant tweaks v1
        var v2 = _k0 ^ 0x6c7967656e657261UL;
        var v3 = _k1 ^ 0x7465646279746573UL;

        var blocks = data.Length / 8;
        for (var i = 0; i < blocks; i++)
        {
            var m = BinaryPrimitives.ReadUInt64LittleEndian(data.Slice(i * 8, 8));
            v3 ^= m;
            Round(ref v0, ref v1, ref v2, ref v3);
            Round(ref v0, ref v1, ref v2, ref v3);
            v0 ^= m;
        }

        // Last block: the remaining bytes, with the length's low byte on top.
        var last = (ulong)data.Length << 56;
        var tail = data[(blocks * 8)..];
        for (var i = 0; i < tail.Length; i++) last |= (ulong)tail[i] << (8 * i);
        v3 ^= last;
        Round(ref v0, ref v1, ref v2, ref v3);
        Round(ref v0, ref v1, ref v2, ref v3);
        v0 ^= last;

        v2 ^= 0xee;
        for (var i = 0; i < 4; i++) Round(ref v0, ref v1, ref v2, ref v3);
        var low = v0 ^ v1 ^ v2 ^ v3;
        v1 ^= 0xdd;
        for (var i = 0; i < 4; i++) Round(ref v0, ref v1, ref v2, ref v3);
        var high = v0 ^ v1 ^ v2 ^ v3;
        return (low, high);
    }

    private static void Round(ref ulong v0, ref ulong v1, ref ulong v2, ref ulong v3)
    {
        v0 += v1; v1 = BitOperations.RotateLeft(v1, 13); v1 ^= v0; v0 = BitOperations.RotateLeft(v0, 32);
        v2 += v3; v3 = BitOperations.RotateLeft(v3, 16); v3 ^= v2;
        v0 += v3; v3 = BitOperations.RotateLeft(v3, 21); v3 ^= v0;
        v2 += v1; v1 = BitOperations.RotateLeft(v1, 17); v1 ^= v2; v2 = BitOperations.RotateLeft(v2, 32);
    }
}
