using System.Globalization;
using System.Text;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// Parses a number as Python's <c>float(str)</c> does, which is how ComfyUI reads the weight in <c>(text:1.2)</c>:
/// surrounding whitespace ignored, optional sign, decimal digits with single underscores between them, optional
/// fraction and exponent, or inf / infinity / nan in any case; any Unicode decimal digit counts as its ASCII digit.
/// Hexadecimal and other forms fail, so ComfyUI keeps them as text.
/// </summary>
internal static class PythonFloat
{
    public static bool TryParse(string text, out double value)
    {
        value = 0;
        string? ascii = ToAscii(text);
        if (ascii is null) return false;
        string s = ascii.Trim();

        int i = 0;
        bool negative = false;
        if (i < s.Length && s[i] is '+' or '-') negative = s[i++] == '-';
        string rest = s[i..].ToLowerInvariant();
        if (rest is "inf" or "infinity")
        {
            value = negative ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }
        if (rest == "nan")
        {
            value = double.NaN;
            return true;
        }

        bool whole = SkipDigits(s, ref i);
        bool fraction = false;
        if (i < s.Length && s[i] == '.')
        {
            i++;
            fraction = SkipDigits(s, ref i);
        }
        if (!whole && !fraction) return false;
        if (i < s.Length && s[i] is 'e' or 'E')
        {
            i++;
            if (i < s.Length && s[i] is '+' or '-') i++;
            if (!SkipDigits(s, ref i)) return false;
        }
        if (i != s.Length) return false;

        value = double.Parse(s.Replace("_", ""), NumberStyles.Float, CultureInfo.InvariantCulture);
        return true;
    }

    /// <summary>Digits with optional single underscores between them; false when there were none or an underscore was misplaced.</summary>
    private static bool SkipDigits(string s, ref int i)
    {
        int start = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
            if (i + 1 < s.Length && s[i] == '_' && char.IsAsciiDigit(s[i + 1])) i++;
        }
        return i > start && s[i - 1] != '_';
    }

    // Python first maps Unicode whitespace to ' ' and decimal digits to ASCII; anything else non-ASCII is invalid.
    private static string? ToAscii(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            if (r.IsAscii) sb.Append((char)r.Value);
            else if (Rune.IsWhiteSpace(r)) sb.Append(' ');
            else if (Rune.GetUnicodeCategory(r) == UnicodeCategory.DecimalDigitNumber)
                sb.Append((char)('0' + (int)Rune.GetNumericValue(r)));
            else return null;
        }
        return sb.ToString();
    }
}
