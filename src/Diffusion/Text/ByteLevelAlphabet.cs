namespace CharacterGen.Diffusion.Text;

/// <summary>
/// GPT-2's byte-to-unicode table, which CLIP's byte-level BPE works in: every UTF-8 byte becomes one printable
/// character, so any text can be merged without unknown symbols. Printable Latin-1 bytes stand for themselves; the
/// other 68 bytes (controls, space, soft hyphen…) are mapped, in byte order, to U+0100 onwards.
/// </summary>
internal static class ByteLevelAlphabet
{
    /// <summary>The symbol for each byte value.</summary>
    public static readonly string[] SymbolOfByte = new string[256];

    /// <summary>The 256 symbols in CLIP's vocabulary order: the printable bytes first, then the remapped ones.</summary>
    public static readonly string[] VocabularyOrder;

    private static readonly Dictionary<char, byte> s_byteOfSymbol = new();

    static ByteLevelAlphabet()
    {
        var order = new List<int>(256);
        static bool Printable(int b) => b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF;
        for (int b = 0; b < 256; b++)
            if (Printable(b)) order.Add(b);
        for (int b = 0; b < 256; b++)
            if (!Printable(b)) order.Add(b);

        int remapped = 0;
        foreach (int b in order)
        {
            char symbol = Printable(b) ? (char)b : (char)(256 + remapped++);
            SymbolOfByte[b] = symbol.ToString();
            s_byteOfSymbol[symbol] = (byte)b;
        }
        VocabularyOrder = order.Select(b => SymbolOfByte[b]).ToArray();
    }

    /// <summary>The byte-level spelling of a piece of text (one symbol per UTF-8 byte).</summary>
    public static string Encode(string text)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(text);
        var chars = new char[bytes.Length];
        for (int i = 0; i < bytes.Length; i++) chars[i] = SymbolOfByte[bytes[i]][0];
        return new string(chars);
    }

    /// <summary>The bytes a byte-level spelling stands for; characters outside the alphabet are skipped.</summary>
    public static byte[] Decode(string symbols)
    {
        var bytes = new List<byte>(symbols.Length);
        foreach (char c in symbols)
            if (s_byteOfSymbol.TryGetValue(c, out byte b)) bytes.Add(b);
        return bytes.ToArray();
    }
}
