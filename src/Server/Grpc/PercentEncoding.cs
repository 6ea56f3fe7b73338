using System.Text;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// The percent-encoding of <c>grpc-message</c>: UTF-8 bytes outside 0x20–0x7E, and '%' itself, become
/// "%XX" (PROTOCOL-HTTP2.md "Percent-Encoded").
/// </summary>
public static class PercentEncoding
{
    public static string Encode(string value)
    {
        if (!NeedsEncoding(value)) return value;
        var builder = new StringBuilder(value.Length + 16);
        foreach (var b in Encoding.UTF8.GetBytes(value))
        {
            if (IsUnreserved(b)) builder.Append((char)b);
            else builder.Append('%').Append(b.ToString("X2"));
        }
        return builder.ToString();
    }

    /// <summary>Decodes valid "%XX" sequences and leaves broken ones as they are, as the spec asks.</summary>
    public static string Decode(string value)
    {
        if (!value.Contains('%')) return value;
        var bytes = new List<byte>(value.Length);
        var literalStart = 0;
        for (var i = 0; i < value.Length; i++)
        {
            if (value[i] != '%' || i + 2 >= value.Length || !IsHex(value[i + 1]) || !IsHex(value[i + 2])) continue;
            bytes.AddRange(Encoding.UTF8.GetBytes(value[literalStart..i]));
            bytes.Add(Convert.ToByte(value.Substring(i + 1, 2), 16));
            i += 2;
            literalStart = i + 1;
        }
        bytes.AddRange(Encoding.UTF8.GetBytes(value[literalStart..]));
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    private static bool NeedsEncoding(string value)
    {
        foreach (var c in value)
            if (c < 0x20 || c > 0x7E || c == '%') return true;
        return false;
    }

    private static bool IsUnreserved(byte b) => b >= 0x20 && b <= 0x7E && b != (byte)'%';

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);
}
