using System.Text;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// CLIP's pre-tokenisation, the matches of its pattern
/// <c>&lt;|startoftext|&gt;|&lt;|endoftext|&gt;|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+</c> (ignoring case),
/// tried in that order at each position; whitespace between matches is dropped. Written as a scanner over code points
/// rather than a .NET regex because .NET's <c>\p{L}</c> sees UTF-16 halves, so letters outside the BMP (𝓬, CJK
/// extension B) would fall into the "other" class where Python counts them as letters.
/// </summary>
internal static class ClipPreTokenizer
{
    private static readonly string[] s_specials = [ClipVocabulary.StartOfText, ClipVocabulary.EndOfText];
    private static readonly string[] s_contractions = ["'s", "'t", "'re", "'ve", "'m", "'ll", "'d"];

    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        int i = 0;
        while (i < text.Length)
        {
            string? fixedMatch = MatchAt(text, i, s_specials) ?? MatchAt(text, i, s_contractions);
            if (fixedMatch is not null)
            {
                pieces.Add(text.Substring(i, fixedMatch.Length));
                i += fixedMatch.Length;
                continue;
            }

            Rune r = RuneAt(text, i, out int used);
            if (Rune.IsWhiteSpace(r))
            {
                i += used;
                continue;
            }
            int end = i + used;
            if (Rune.IsLetter(r))
                end = SkipWhile(text, end, Rune.IsLetter);
            else if (!Rune.IsNumber(r))
                end = SkipWhile(text, end, x => !Rune.IsWhiteSpace(x) && !Rune.IsLetter(x) && !Rune.IsNumber(x));
            // A number is one code point: "2024" is four pieces.
            pieces.Add(text[i..end]);
            i = end;
        }
        return pieces;
    }

    private static string? MatchAt(string text, int at, string[] candidates)
    {
        foreach (string c in candidates)
            if (at + c.Length <= text.Length && string.Compare(text, at, c, 0, c.Length, StringComparison.OrdinalIgnoreCase) == 0)
                return c;
        return null;
    }

    private static int SkipWhile(string text, int at, Func<Rune, bool> predicate)
    {
        while (at < text.Length)
        {
            Rune r = RuneAt(text, at, out int used);
            if (!predicate(r)) break;
            at += used;
        }
        return at;
    }

    private static Rune RuneAt(string text, int at, out int used)
    {
        Rune.DecodeFromUtf16(text.AsSpan(at), out Rune r, out used);
        return r;
    }
}
