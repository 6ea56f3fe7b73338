namespace CharacterGen.Diffusion.Text;

/// <summary>
/// Turns a prompt into CLIP input windows as ComfyUI's <c>SDTokenizer.tokenize_with_weights</c> does: parse the weights,
/// tokenize each weighted run as a whole, resolve <c>embedding:name</c> references, then lay the token groups into
/// chunks of <see cref="SDTokenizerOptions.MaxLength"/> (start + 75 + end for SD), padded.
/// </summary>
public sealed class SDTokenizer
{
    public const string EmbeddingPrefix = "embedding:";

    private readonly IEmbeddingLookup? _embeddings;
    private readonly Action<string>? _warn;

    /// <param name="tokenizer">The shared CLIP tokenizer.</param>
    /// <param name="options">Chunk layout; <see cref="SDTokenizerOptions.ClipL"/> when null.</param>
    /// <param name="embeddings">Textual-inversion embeddings for this text encoder; null when there are none, in
    /// which case every <c>embedding:</c> reference is reported and dropped, as in ComfyUI with an empty folder.</param>
    /// <param name="warn">Receives ComfyUI's warnings (an unknown embedding).</param>
    public SDTokenizer(ClipTokenizer tokenizer, SDTokenizerOptions? options = null, IEmbeddingLookup? embeddings = null,
        Action<string>? warn = null)
    {
        Tokenizer = tokenizer;
        Options = options ?? SDTokenizerOptions.ClipL;
        Options.Validate();
        _embeddings = embeddings;
        _warn = warn;
    }

    public ClipTokenizer Tokenizer { get; }
    public SDTokenizerOptions Options { get; }
    public int StartTokenId => Tokenizer.StartTokenId;
    public int EndTokenId => Tokenizer.EndTokenId;
    public int PadTokenId => Options.PadTokenId ?? Tokenizer.EndTokenId;

    /// <summary>The prompt as one or more chunks; an empty prompt gives one chunk of start, end and padding.</summary>
    public IReadOnlyList<TokenChunk> TokenizeWithWeights(string text)
    {
        // With weights off ComfyUI still turns \( and \) into plain parentheses.
        IReadOnlyList<WeightedText> runs = Options.DisableWeights
            ? [new WeightedText(text.Replace("\\)", ")").Replace("\\(", "("), 1.0)]
            : PromptWeights.Parse(text);
        var groups = new List<List<PromptToken>>();
        foreach (var run in runs)
            foreach (string piece in SplitAtEmbeddings(run.Text))
                AddPiece(piece, run.Weight, groups);
        return LayOut(groups);
    }

    /// <summary>The empty prompt at a given length (start, end, then padding): what weighted prompts are weighted
    /// against (ComfyUI's gen_empty_tokens).</summary>
    public TokenChunk EmptyTokens(int length)
    {
        var tokens = new List<PromptToken> { new(StartTokenId, 1.0), new(EndTokenId, 1.0) };
        while (tokens.Count < length) tokens.Add(new PromptToken(PadTokenId, 1.0));
        return new TokenChunk(tokens);
    }

    /// <summary>
    /// ComfyUI cuts a run before every " embedding:" or "\nembedding:" (the space or newline is dropped): the text
    /// before the first reference, then each reference with whatever follows it.
    /// </summary>
    private static IEnumerable<string> SplitAtEmbeddings(string run)
    {
        int from = 0;
        bool first = true;
        while (true)
        {
            int at = NextReference(run, from);
            string piece = (first ? "" : EmbeddingPrefix) + run[from..(at < 0 ? run.Length : at)];
            if (piece.Length > 0) yield return piece;
            if (at < 0) yield break;
            from = at + 1 + EmbeddingPrefix.Length;
            first = false;
        }
    }

    private static int NextReference(string run, int from)
    {
        int space = run.IndexOf(" " + EmbeddingPrefix, from, StringComparison.Ordinal);
        int newline = run.IndexOf("\n" + EmbeddingPrefix, from, StringComparison.Ordinal);
        return space < 0 ? newline : newline < 0 ? space : Math.Min(space, newline);
    }

    private void AddPiece(string piece, double weight, List<List<PromptToken>> groups)
    {
        if (piece.StartsWith(EmbeddingPrefix, StringComparison.Ordinal))
        {
            string reference = piece[EmbeddingPrefix.Length..].Trim('\n');
            (string name, int? count, string leftover) = ResolveEmbedding(reference);
            if (count is { } n)
                groups.Add(Enumerable.Range(0, n).Select(i => PromptToken.ForEmbedding(new EmbeddingSlot(name, i), weight)).ToList());
            else
                _warn?.Invoke($"warning, {EmbeddingPrefix}{reference} does not exist, ignoring");
            if (leftover.Length == 0) return;
            piece = leftover;
        }
        groups.Add(Tokenizer.Encode(piece).Select(id => new PromptToken(id, weight)).ToList());
    }

    /// <summary>
    /// The name is the reference's first word; the other words are left over as text. A name not found is tried again
    /// without surrounding commas ("embedding:style, red"), the commas going back to the text, as ComfyUI does.
    /// </summary>
    private (string Name, int? Count, string Leftover) ResolveEmbedding(string reference)
    {
        string[] words = reference.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        // ComfyUI fails on a bare "embedding:"; here it is an unknown embedding with no name.
        if (words.Length == 0) return ("", null, "");
        string name = words[0], leftover = string.Join(' ', words.Skip(1));
        int? count = Find(name);
        if (count is null)
        {
            string stripped = name.Trim(',');
            if (stripped.Length < name.Length)
            {
                // ComfyUI puts back name[len(stripped):]: the trailing commas (it mangles leading ones; so do we).
                leftover = $"{name[stripped.Length..]} {leftover}";
                count = Find(stripped);
                name = stripped;
            }
        }
        return (name, count, leftover);
    }

    private int? Find(string name) => name.Length == 0 ? null : _embeddings?.VectorCount(name);

    /// <summary>
    /// ComfyUI's layout: groups are appended in order; one that does not fit the current chunk is split at the chunk
    /// end when it has at least MaxWordLength tokens, else the chunk is closed (end token, padding) and the group moves
    /// whole to a new chunk.
    /// </summary>
    private List<TokenChunk> LayOut(List<List<PromptToken>> groups)
    {
        var start = new PromptToken(StartTokenId, 1.0);
        var end = new PromptToken(EndTokenId, 1.0);
        var pad = new PromptToken(PadTokenId, 1.0);
        var chunks = new List<TokenChunk>();
        var chunk = new List<PromptToken> { start };

        foreach (List<PromptToken> group in groups)
        {
            bool splittable = group.Count >= Options.MaxWordLength;
            int next = 0;
            while (next < group.Count)
            {
                int room = Options.MaxLength - 1 - chunk.Count;
                int left = group.Count - next;
                if (left <= room)
                {
                    chunk.AddRange(group.Skip(next));
                    break;
                }
                if (splittable)
                {
                    chunk.AddRange(group.Skip(next).Take(room));
                    next += room;
                    chunk.Add(end);
                }
                else
                {
                    chunk.Add(end);
                    if (Options.PadToMaxLength) chunk.AddRange(Enumerable.Repeat(pad, room));
                }
                chunks.Add(new TokenChunk(chunk));
                chunk = [start];
            }
        }

        chunk.Add(end);
        if (Options.PadToMaxLength) chunk.AddRange(Enumerable.Repeat(pad, Math.Max(0, Options.MaxLength - chunk.Count)));
        chunks.Add(new TokenChunk(chunk));
        return chunks;
    }
}
