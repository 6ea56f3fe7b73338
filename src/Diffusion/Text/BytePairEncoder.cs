using System.Collections.Concurrent;

namespace CharacterGen.Diffusion.Text;

/// <summary>
/// CLIP's byte-pair encoding of one pre-token: spell it in byte-level symbols, mark the last as end of word
/// (<c>&lt;/w&gt;</c>), then repeatedly merge the adjacent pair with the best (lowest) rank until none has a rank.
/// Results are cached, as CLIP does; the cache is bounded so adversarial prompts cannot grow it without limit.
/// </summary>
public sealed class BytePairEncoder
{
    public const int DefaultCacheCapacity = 100_000;

    private readonly Dictionary<(string, string), int> _ranks = new();
    private readonly ConcurrentDictionary<string, string[]> _cache = new(StringComparer.Ordinal);
    private readonly int _cacheCapacity;
    private int _cached; // counted here: ConcurrentDictionary.Count takes every lock

    public BytePairEncoder(IEnumerable<(string Left, string Right)> merges, int cacheCapacity = DefaultCacheCapacity)
    {
        int rank = 0;
        // A repeated pair takes its later rank, as Python's dict(zip(merges, range(...))) does.
        foreach (var merge in merges) _ranks[merge] = rank++;
        _cacheCapacity = cacheCapacity;
    }

    public int MergeCount => _ranks.Count;

    /// <summary>The BPE symbols of a pre-token given as plain text (it is spelled in byte-level symbols here).</summary>
    public IReadOnlyList<string> Encode(string piece)
    {
        if (piece.Length == 0) return [];
        if (_cache.TryGetValue(piece, out string[]? cached)) return cached;
        string[] symbols = Merge(ByteLevelAlphabet.Encode(piece));
        if (Volatile.Read(ref _cached) < _cacheCapacity && _cache.TryAdd(piece, symbols)) Interlocked.Increment(ref _cached);
        return symbols;
    }

    private string[] Merge(string spelled)
    {
        var word = new List<string>(spelled.Length);
        foreach (char c in spelled) word.Add(c.ToString());
        word[^1] += ClipVocabulary.EndOfWord;

        while (word.Count > 1)
        {
            (string, string)? best = null;
            int bestRank = int.MaxValue;
            for (int i = 0; i + 1 < word.Count; i++)
                if (_ranks.TryGetValue((word[i], word[i + 1]), out int r) && r < bestRank)
                    (best, bestRank) = ((word[i], word[i + 1]), r);
            if (best is not { } pair) break;

            // Merge every non-overlapping occurrence, left to right.
            var merged = new List<string>(word.Count);
            for (int i = 0; i < word.Count; i++)
            {
                if (i + 1 < word.Count && word[i] == pair.Item1 && word[i + 1] == pair.Item2)
                {
                    merged.Add(pair.Item1 + pair.Item2);
                    i++;
                }
                else merged.Add(word[i]);
            }
            word = merged;
        }
        return word.ToArray();
    }
}
