using System.Globalization;
using System.Text;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// Lower-casing as Python's <c>str.lower()</c>: the simple Unicode mapping (.NET's invariant casing) plus Python's two
/// differences, the unconditional special case İ → i̇ and Greek capital sigma becoming final ς at the end of a word.
/// </summary>
internal static class PythonLowerCase
{
    private const int CapitalSigma = 0x03A3;

    public static string Apply(string text)
    {
        Rune[] runes = text.EnumerateRunes().ToArray();
        var lower = new StringBuilder(text.Length);
        for (int i = 0; i < runes.Length; i++)
        {
            Rune r = runes[i];
            if (r.Value == 0x0130) lower.Append("i\u0307");
            else if (r.Value == CapitalSigma) lower.Append(IsFinalSigma(runes, i) ? 'ς' : 'σ');
            else lower.Append(Rune.ToLowerInvariant(r).ToString());
        }
        return lower.ToString();
    }

    // Unicode's Final_Sigma context: a cased letter before (skipping case-ignorables) and none after.
    private static bool IsFinalSigma(Rune[] runes, int at)
    {
        int before = at - 1;
        while (before >= 0 && IsCaseIgnorable(runes[before])) before--;
        if (before < 0 || !IsCased(runes[before])) return false;
        int after = at + 1;
        while (after < runes.Length && IsCaseIgnorable(runes[after])) after++;
        return after == runes.Length || !IsCased(runes[after]);
    }

    // Approximations of the Unicode properties Cased and Case_Ignorable, by general category.
    private static bool IsCased(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.UppercaseLetter
        or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter;

    private static bool IsCaseIgnorable(Rune r) =>
        Rune.GetUnicodeCategory(r) is UnicodeCategory.NonSpacingMark or UnicodeCategory.EnclosingMark
            or UnicodeCategory.Format or UnicodeCategory.ModifierLetter or UnicodeCategory.ModifierSymbol
        || r.Value is '\'' or '.' or ':' or 0x00B7 or 0x0387 or 0x2018 or 0x2019 or 0x2024 or 0x2027 or 0xFE13
            or 0xFE52 or 0xFE55 or 0xFF07 or 0xFF0E or 0xFF1A;
}
