using System.Globalization;
using System.Net;
using System.Text;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// The text clean-up before pre-tokenisation (see <see cref="ClipTextCleanup"/>). The result holds single spaces
/// between words and is lower-cased as Python's <c>str.lower</c> does.
/// </summary>
/// <remarks>
/// Not replicated: Unicode NFC normalisation (transformers' basic tokenizer applies it; this service runs with
/// invariant globalization, where .NET cannot normalise), so text typed in decomposed form (e + combining accent)
/// gives other ids than in ComfyUI; ftfy (OpenAI mode). HTML decoding uses the HTML 4 entity set and needs the
/// closing semicolon, where Python's <c>html.unescape</c> knows all HTML 5 names.
/// </remarks>
internal static class ClipTextCleaner
{
    public static string Clean(string text, ClipTextCleanup mode) => mode switch
    {
        ClipTextCleanup.ComfyUI => CleanLikeBasicTokenizer(text),
        ClipTextCleanup.OpenAI => CleanLikeOpenAI(text),
        _ => throw new ArgumentOutOfRangeException(nameof(mode), mode, null),
    };

    // transformers BasicTokenizer(strip_accents=False, do_split_on_punc=False): _clean_text,
    // _tokenize_chinese_chars, (NFC), whitespace split, lower-case each word; CLIPTokenizer joins the words with spaces.
    private static string CleanLikeBasicTokenizer(string text)
    {
        var kept = new StringBuilder(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes())
        {
            if (r.Value is '\t' or '\n' or '\r' or ' ') kept.Append(' ');
            else if (r.Value is 0 or 0xFFFD || IsOtherCategory(r)) continue;
            else if (Rune.GetUnicodeCategory(r) == UnicodeCategory.SpaceSeparator) kept.Append(' ');
            else if (IsCjkIdeograph(r.Value)) kept.Append(' ').Append(r.ToString()).Append(' ');
            else kept.Append(r.ToString());
        }
        return string.Join(' ', SplitOnWhiteSpace(kept.ToString()).Select(PythonLowerCase.Apply));
    }

    // simple_tokenizer: basic_clean (ftfy, html.unescape twice, strip), whitespace_clean, lower.
    private static string CleanLikeOpenAI(string text)
    {
        string unescaped = WebUtility.HtmlDecode(WebUtility.HtmlDecode(text));
        return PythonLowerCase.Apply(string.Join(' ', SplitOnWhiteSpace(unescaped)));
    }

    /// <summary>Words between runs of Unicode White_Space (what Python's <c>str.split()</c> and <c>\s</c> split on).</summary>
    private static List<string> SplitOnWhiteSpace(string text)
    {
        var words = new List<string>();
        int start = -1;
        for (int i = 0; i < text.Length;)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune r, out int used);
            if (Rune.IsWhiteSpace(r))
            {
                if (start >= 0) words.Add(text[start..i]);
                start = -1;
            }
            else if (start < 0) start = i;
            i += used;
        }
        if (start >= 0) words.Add(text[start..]);
        return words;
    }

    // transformers' _is_control: every "C*" category (control, format, surrogate, private use, unassigned).
    private static bool IsOtherCategory(Rune r) => Rune.GetUnicodeCategory(r) is UnicodeCategory.Control
        or UnicodeCategory.Format or UnicodeCategory.Surrogate or UnicodeCategory.PrivateUse
        or UnicodeCategory.OtherNotAssigned;

    // The CJK Unified Ideographs blocks as BERT's tokenizer lists them (not kana or hangul).
    private static bool IsCjkIdeograph(int cp) =>
        cp is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF
            or >= 0x2A700 and <= 0x2B73F or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF
            or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;
}
