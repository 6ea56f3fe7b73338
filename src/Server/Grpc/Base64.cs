namespace CharacterGen.Server.Grpc;

/// <summary>Base64 for "-bin" headers: we emit unpadded values and accept padded or unpadded ones (PROTOCOL-HTTP2.md).</summary>
public static class Base64
{
    public static string EncodeUnpadded(ReadOnlySpan<byte> value) => Convert.ToBase64String(value).TrimEnd('=');

    public static byte[] Decode(string value)
    {
        var trimmed = value.Trim().TrimEnd('=');
        return Convert.FromBase64String(trimmed + new string('=', (4 - trimmed.Length % 4) % 4));
    }
}
