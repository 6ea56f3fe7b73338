namespace CharacterGen.Diffusion.Text;

/// <summary>
/// CLIP's text tokenizer (byte-level BPE) as ComfyUI uses it for SD1/SD2/SDXL: clean the text, cut it into pre-tokens,
/// BPE each, look the pieces up in the vocabulary. Thread-safe; build one per process and share it.
/// </summary>
public sealed class ClipTokenizer
{
    /// <summary>Where <see cref="FromModelsFolder"/> looks, relative to the models folder.</summary>
    public static readonly string ModelsSubfolder = Path.Combine("text_encoders", "clip_tokenizer");

    public const string BpeMergesFileName = "bpe_simple_vocab_16e6.txt.gz";
    public const string VocabFileName = "vocab.json";
    public const string MergesFileName = "merges.txt";

    private readonly BytePairEncoder _bpe;

    public ClipTokenizer(ClipVocabulary vocabulary, ClipTextCleanup cleanup = ClipTextCleanup.ComfyUI)
    {
        Vocabulary = vocabulary;
        Cleanup = cleanup;
        _bpe = new BytePairEncoder(vocabulary.Merges);
    }

    /// <summary>A tokenizer from an in-memory vocabulary (token → id, which must include the start and end tokens)
    /// and merges in rank order.</summary>
    public ClipTokenizer(IReadOnlyDictionary<string, int> vocabulary, IEnumerable<(string Left, string Right)> merges,
        ClipTextCleanup cleanup = ClipTextCleanup.ComfyUI)
        : this(new ClipVocabulary(vocabulary, merges), cleanup) { }

    public ClipVocabulary Vocabulary { get; }
    public ClipTextCleanup Cleanup { get; }
    public int StartTokenId => Vocabulary.StartId;
    public int EndTokenId => Vocabulary.EndId;

    /// <summary>From OpenAI's <c>bpe_simple_vocab_16e6.txt.gz</c>.</summary>
    public static ClipTokenizer FromBpeMergesFile(string gzPath, ClipTextCleanup cleanup = ClipTextCleanup.ComfyUI) =>
        new(ClipVocabulary.LoadBpeMerges(gzPath), cleanup);

    /// <summary>From Hugging Face's <c>vocab.json</c> and <c>merges.txt</c>.</summary>
    public static ClipTokenizer FromHuggingFaceFiles(string vocabJsonPath, string mergesTxtPath,
        ClipTextCleanup cleanup = ClipTextCleanup.ComfyUI) =>
        new(ClipVocabulary.LoadHuggingFace(vocabJsonPath, mergesTxtPath), cleanup);

    /// <summary>
    /// From <c>&lt;models&gt;/text_encoders/clip_tokenizer/</c>: <c>vocab.json</c> + <c>merges.txt</c> (Hugging Face
    /// openai/clip-vit-large-patch14, or ComfyUI's <c>comfy/sd1_tokenizer</c>) when both are there, else
    /// <c>bpe_simple_vocab_16e6.txt.gz</c> (openai/CLIP). The same files serve SD1, SD2 and SDXL.
    /// </summary>
    /// <exception cref="TokenizerFilesNotFoundException">Neither set is there; the message names the files and folder.</exception>
    public static ClipTokenizer FromModelsFolder(string modelsDir, ClipTextCleanup cleanup = ClipTextCleanup.ComfyUI)
    {
        string folder = Path.GetFullPath(Path.Combine(modelsDir, ModelsSubfolder));
        string vocab = Path.Combine(folder, VocabFileName), merges = Path.Combine(folder, MergesFileName);
        bool hasVocab = File.Exists(vocab), hasMerges = File.Exists(merges);
        if (hasVocab && hasMerges) return FromHuggingFaceFiles(vocab, merges, cleanup);

        string bpe = Path.Combine(folder, BpeMergesFileName);
        if (File.Exists(bpe)) return FromBpeMergesFile(bpe, cleanup);

        string found = hasVocab ? $" ({VocabFileName} is there but {MergesFileName} is missing)"
            : hasMerges ? $" ({MergesFileName} is there but {VocabFileName} is missing)" : "";
        throw new TokenizerFilesNotFoundException(folder,
            $"CLIP tokenizer files not found{found}. Put {BpeMergesFileName} (from github.com/openai/CLIP, " +
            $"clip/{BpeMergesFileName}), or {VocabFileName} and {MergesFileName} (from Hugging Face " +
            $"openai/clip-vit-large-patch14), in {folder}");
    }

    /// <summary>The token ids of a text, without start and end tokens (ComfyUI's <c>tokenizer(text)["input_ids"][1:-1]</c>).
    /// The literal strings &lt;|startoftext|&gt; and &lt;|endoftext|&gt; become their special ids.</summary>
    public IReadOnlyList<int> Encode(string text)
    {
        var ids = new List<int>();
        foreach (string symbol in Tokenize(text))
            ids.Add(Vocabulary.TryGetId(symbol, out int id) ? id : EndTokenId); // CLIP's unknown token is <|endoftext|>
        return ids;
    }

    /// <summary>The BPE pieces of a text (vocabulary strings, words ending in <c>&lt;/w&gt;</c>).</summary>
    public IReadOnlyList<string> Tokenize(string text)
    {
        var symbols = new List<string>();
        foreach (string part in SplitSpecialTokens(text))
        {
            if (IsSpecial(part))
            {
                symbols.Add(part);
                continue;
            }
            foreach (string piece in ClipPreTokenizer.Split(ClipTextCleaner.Clean(part, Cleanup)))
            {
                if (IsSpecial(piece)) symbols.Add(piece);
                else symbols.AddRange(_bpe.Encode(piece));
            }
        }
        return symbols;
    }

    /// <summary>Text back from ids (lower-case, cleaned); special tokens are left out unless asked for.</summary>
    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            string? token = Vocabulary.TokenOf(id);
            if (token is null || (skipSpecialTokens && IsSpecial(token))) continue;
            bool endOfWord = token.EndsWith(ClipVocabulary.EndOfWord, StringComparison.Ordinal);
            bytes.AddRange(ByteLevelAlphabet.Decode(endOfWord ? token[..^ClipVocabulary.EndOfWord.Length] : token));
            if (endOfWord) bytes.Add((byte)' ');
        }
        return System.Text.Encoding.UTF8.GetString(bytes.ToArray()).Trim();
    }

    private static bool IsSpecial(string s) => s is ClipVocabulary.StartOfText or ClipVocabulary.EndOfText;

    /// <summary>
    /// transformers cuts its special tokens out of the raw text (exact spelling) before cleaning the rest; OpenAI's
    /// tokenizer instead finds them after clean-up, through its pattern.
    /// </summary>
    private IEnumerable<string> SplitSpecialTokens(string text)
    {
        if (Cleanup != ClipTextCleanup.ComfyUI)
        {
            yield return text;
            yield break;
        }
        int from = 0;
        while (true)
        {
            int start = text.IndexOf(ClipVocabulary.StartOfText, from, StringComparison.Ordinal);
            int end = text.IndexOf(ClipVocabulary.EndOfText, from, StringComparison.Ordinal);
            int at = start < 0 ? end : end < 0 ? start : Math.Min(start, end);
            if (at < 0) break;
            string special = at == start ? ClipVocabulary.StartOfText : ClipVocabulary.EndOfText;
            if (at > from) yield return text[from..at];
            yield return special;
            from = at + special.Length;
        }
        if (from < text.Length) yield return text[from..];
    }
}
