namespace CharacterGen.Diffusion.Text;

/// <summary>How raw prompt text is cleaned before CLIP's pre-tokenisation. The two differ for CJK, HTML entities and
/// invisible format characters; for plain text they give the same ids.</summary>
public enum ClipTextCleanup
{
    /// <summary>
    /// What ComfyUI runs: transformers' (slow) <c>CLIPTokenizer</c> without ftfy, which falls back to a BERT-style
    /// clean-up: control and format characters (zero-width joiner, soft hyphen…) removed, whitespace collapsed, a space
    /// put around every CJK ideograph, each word lower-cased. HTML entities are left as written.
    /// </summary>
    ComfyUI,

    /// <summary>
    /// openai/CLIP's <c>simple_tokenizer</c>: HTML entities unescaped (twice), whitespace collapsed, lower-cased.
    /// ftfy's mojibake repair, which it runs first, is not replicated.
    /// </summary>
    OpenAI,
}
