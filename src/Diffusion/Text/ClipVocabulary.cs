using System.IO.Compression;
using System.Text;
using System.Text.Json;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// CLIP's token vocabulary (token ↔ id) and its ranked BPE merges. Loads OpenAI's
/// <c>bpe_simple_vocab_16e6.txt.gz</c> (the vocabulary is then derived as CLIP does) or Hugging Face's
/// <c>vocab.json</c> + <c>merges.txt</c>; for CLIP ViT-L/14 both give the same 49408 tokens and ids.
/// </summary>
public sealed class ClipVocabulary
{
    /// <summary>CLIP uses the first 49152 − 256 − 2 merges of its file (openai/CLIP simple_tokenizer.py).</summary>
    public const int ClipMergeCount = 49152 - 256 - 2;

    public const string StartOfText = "<|startoftext|>";
    public const string EndOfText = "<|endoftext|>";
    public const string EndOfWord = "</w>";

    private readonly Dictionary<string, int> _ids;
    private readonly Dictionary<int, string> _tokens;

    /// <summary>A vocabulary from explicit parts (tests build tiny ones this way). Merges are in rank order.</summary>
    public ClipVocabulary(IReadOnlyDictionary<string, int> ids, IEnumerable<(string Left, string Right)> merges)
    {
        _ids = new Dictionary<string, int>(ids, StringComparer.Ordinal);
        _tokens = new Dictionary<int, string>(_ids.Count);
        foreach (var (token, id) in _ids)
            if (!_tokens.TryAdd(id, token))
                throw new ArgumentException($"tokens '{_tokens[id]}' and '{token}' share id {id}", nameof(ids));
        Merges = merges.ToArray();
        StartId = RequireId(StartOfText);
        EndId = RequireId(EndOfText);
    }

    /// <summary>Token → id.</summary>
    public IReadOnlyDictionary<string, int> Ids => _ids;

    /// <summary>The BPE merges, highest priority first.</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    public int Count => _ids.Count;
    public int StartId { get; }
    public int EndId { get; }

    public bool TryGetId(string token, out int id) => _ids.TryGetValue(token, out id);

    public string? TokenOf(int id) => _tokens.GetValueOrDefault(id);

    /// <summary>Hugging Face's tokenizer files into <paramref name="folder"/>: vocab.json (token → id, by id) and merges.txt (a version line, then "left right").</summary>
    public void WriteFiles(string folder)
    {
        Directory.CreateDirectory(folder);
        var ordered = Ids.OrderBy(p => p.Value).ToDictionary(p => p.Key, p => p.Value);
        File.WriteAllText(Path.Combine(folder, ClipTokenizer.VocabFileName), JsonSerializer.Serialize(ordered), new UTF8Encoding(false));
        var lines = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in Merges) lines.Append(left).Append(' ').Append(right).Append('\n');
        File.WriteAllText(Path.Combine(folder, ClipTokenizer.MergesFileName), lines.ToString(), new UTF8Encoding(false));
    }

    /// <summary>
    /// The vocabulary CLIP derives from its merges: the 256 byte symbols, the same with <c>&lt;/w&gt;</c>, one token per
    /// merge (the two parts joined), then <c>&lt;|startoftext|&gt;</c> and <c>&lt;|endoftext|&gt;</c>.
    /// </summary>
    public static ClipVocabulary FromMerges(IReadOnlyList<(string Left, string Right)> merges)
    {
        var tokens = new List<string>(512 + merges.Count + 2);
        tokens.AddRange(ByteLevelAlphabet.VocabularyOrder);
        tokens.AddRange(ByteLevelAlphabet.VocabularyOrder.Select(s => s + EndOfWord));
        tokens.AddRange(merges.Select(m => m.Left + m.Right));
        tokens.Add(StartOfText);
        tokens.Add(EndOfText);
        var ids = new Dictionary<string, int>(tokens.Count, StringComparer.Ordinal);
        // Later duplicates win, as in Python's dict(zip(vocab, range(len(vocab)))).
        for (int i = 0; i < tokens.Count; i++) ids[tokens[i]] = i;
        return new ClipVocabulary(ids, merges);
    }

    /// <summary>Reads OpenAI's gzip-compressed merges file (a version line, then one "left right" merge a line).</summary>
    public static ClipVocabulary LoadBpeMerges(string gzPath)
    {
        using var file = File.OpenRead(gzPath);
        using var gzip = new GZipStream(file, CompressionMode.Decompress);
        using var reader = new StreamReader(gzip, Encoding.UTF8);
        return FromMerges(ParseMerges(reader.ReadToEnd(), gzPath));
    }

    /// <summary>Reads Hugging Face's <c>vocab.json</c> (token → id) and <c>merges.txt</c>.</summary>
    public static ClipVocabulary LoadHuggingFace(string vocabJsonPath, string mergesTxtPath)
    {
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        using (var json = JsonDocument.Parse(File.ReadAllBytes(vocabJsonPath)))
        {
            if (json.RootElement.ValueKind != JsonValueKind.Object)
                throw new InvalidDataException($"{vocabJsonPath}: expected a JSON object of token → id");
            foreach (JsonProperty p in json.RootElement.EnumerateObject())
                ids[p.Name] = p.Value.TryGetInt32(out int id) ? id
                    : throw new InvalidDataException($"{vocabJsonPath}: the id of '{p.Name}' is not an integer");
        }
        if (ids.Count == 0) throw new InvalidDataException($"{vocabJsonPath} holds no tokens");
        return new ClipVocabulary(ids, ParseMerges(File.ReadAllText(mergesTxtPath, Encoding.UTF8), mergesTxtPath));
    }

    /// <summary>
    /// Both merge files start with a "#version" line and CLIP reads at most <see cref="ClipMergeCount"/> merges after it
    /// (the OpenAI file holds more lines than CLIP uses).
    /// </summary>
    private static List<(string, string)> ParseMerges(string text, string source)
    {
        string[] lines = text.Split('\n');
        int first = lines.Length > 0 && lines[0].Contains("#version", StringComparison.Ordinal) ? 1 : 0;
        var merges = new List<(string, string)>(Math.Min(lines.Length, ClipMergeCount));
        for (int i = first; i < lines.Length && merges.Count < ClipMergeCount; i++)
        {
            string[] parts = lines[i].Split([' ', '\t', '\r'], StringSplitOptions.RemoveEmptyEntries);
            if (parts.Length == 0) continue;
            if (parts.Length != 2) throw new InvalidDataException($"{source} line {i + 1}: expected two symbols, found '{lines[i]}'");
            merges.Add((parts[0], parts[1]));
        }
        return merges;
    }

    private int RequireId(string token) =>
        _ids.TryGetValue(token, out int id) ? id : throw new ArgumentException($"the vocabulary has no {token} token");
}
