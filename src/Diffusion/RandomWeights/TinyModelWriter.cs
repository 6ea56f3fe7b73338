using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.RandomWeights;

/// <summary>
/// Writes a tiny random-weight SD1.5 checkpoint together with a matching small CLIP tokenizer in the sibling folder
/// <c>NAME.tokenizer/</c> (vocab.json + merges.txt), so that a models folder holding only these runs every SD1.5
/// workflow (demos, tests, smoke checks on a fresh machine). The vocabulary is CLIP's layout at small scale: the 256
/// byte symbols, the same with &lt;/w&gt;, byte-pair merges learned from a built-in list of prompt words, then
/// &lt;|startoftext|&gt; and &lt;|endoftext|&gt; as the two highest ids (SD1 pools at the largest id). Deterministic.
/// </summary>
public static class TinyModelWriter
{
    public const int DefaultMerges = 400;

    // Words of typical prompts, repeated by how common they are, so frequent words become single tokens.
    private const string Corpus =
        "a photo of a cat, a photo of a dog, portrait of a woman, portrait of a man, a girl, a boy, a person, " +
        "a character, an avatar, a face, smiling face, close up portrait, full body, standing, sitting, " +
        "best quality, high quality, masterpiece, highly detailed, detailed face, detailed eyes, sharp focus, " +
        "low quality, worst quality, blurry, ugly, deformed, bad anatomy, bad hands, extra fingers, watermark, text, " +
        "red hair, blue hair, black hair, blonde hair, brown hair, long hair, short hair, blue eyes, green eyes, " +
        "brown eyes, red dress, white shirt, black jacket, armor, hat, glasses, smile, background, simple background, " +
        "white background, forest, city, street, night, sunset, sky, clouds, mountains, ocean, beach, garden, " +
        "indoors, outdoors, studio lighting, soft light, cinematic lighting, dramatic, anime, cartoon, illustration, " +
        "painting, oil painting, watercolor, digital art, concept art, photorealistic, realistic, 3d render, " +
        "style, in the style of, wearing, holding, with, and, the, on, in, at, by, from, fantasy, knight, wizard, " +
        "robot, astronaut, warrior, princess, elf, dragon, castle, flowers, tree, house, car, landscape, colorful";

    /// <summary>Paths written by <see cref="WriteSd15"/>.</summary>
    public sealed record Written(string Checkpoint, string TokenizerFolder, int VocabularySize);

    /// <summary>The checkpoint at <paramref name="checkpointPath"/> and its tokenizer folder beside it.</summary>
    public static Written WriteSd15(string checkpointPath, ulong seed = 0, int merges = DefaultMerges)
    {
        ClipVocabulary vocabulary = Vocabulary(merges);
        string full = Path.GetFullPath(checkpointPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        TestCheckpoints.WriteSd15(full, seed, TinySizes.Default.WithVocabSize(vocabulary.Count));
        string folder = CheckpointTokenizer.SiblingFolder(full);
        vocabulary.WriteFiles(folder);
        return new Written(full, folder, vocabulary.Count);
    }

    /// <summary>A tiny SDXL-layout checkpoint (<see cref="TinySizes.SdxlConfig"/>, both encoders sized to the tiny vocabulary) and its tokenizer.</summary>
    public static Written WriteSdxl(string checkpointPath, ulong seed = 0, int merges = DefaultMerges)
    {
        ClipVocabulary vocabulary = Vocabulary(merges);
        string full = Path.GetFullPath(checkpointPath);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        CheckpointConfig config = TinySizes.SdxlConfig();
        config = config with
        {
            Clip = config.Clip! with { VocabSize = vocabulary.Count }, ClipG = config.ClipG! with { VocabSize = vocabulary.Count },
        };
        TestCheckpoints.Write(full, config, seed);
        string folder = CheckpointTokenizer.SiblingFolder(full);
        vocabulary.WriteFiles(folder);
        return new Written(full, folder, vocabulary.Count);
    }


    /// <summary>The tiny vocabulary: up to <paramref name="maxMerges"/> merges learned from the built-in corpus.</summary>
    public static ClipVocabulary Vocabulary(int maxMerges = DefaultMerges) => ClipVocabulary.FromMerges(LearnMerges(maxMerges));

    /// <summary>
    /// Byte-pair encoding training (Sennrich et al. 2016) on the corpus words: repeatedly merge the most frequent
    /// adjacent pair (ties: the ordinally smallest), never creating a token that already exists.
    /// </summary>
    private static List<(string, string)> LearnMerges(int maxMerges)
    {
        var words = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string word in Corpus.Split([' ', ','], StringSplitOptions.RemoveEmptyEntries))
            words[word] = words.GetValueOrDefault(word) + 1;
        var split = words.Select(w => (Symbols: Symbols(w.Key), Count: w.Value)).ToList();
        var known = new HashSet<string>(StringComparer.Ordinal);
        var merges = new List<(string, string)>();
        while (merges.Count < maxMerges)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (symbols, count) in split)
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    var pair = (symbols[i], symbols[i + 1]);
                    if (!known.Contains(pair.Item1 + pair.Item2)) pairs[pair] = pairs.GetValueOrDefault(pair) + count;
                }
            if (pairs.Count == 0) break;
            var best = pairs.OrderByDescending(p => p.Value)
                .ThenBy(p => p.Key.Item1, StringComparer.Ordinal).ThenBy(p => p.Key.Item2, StringComparer.Ordinal).First().Key;
            merges.Add(best);
            known.Add(best.Item1 + best.Item2);
            foreach (var (symbols, _) in split) Merge(symbols, best);
        }
        return merges;
    }

    private static List<string> Symbols(string word)
    {
        var symbols = word.Select(c => c.ToString()).ToList();
        symbols[^1] += ClipVocabulary.EndOfWord;
        return symbols;
    }

    private static void Merge(List<string> symbols, (string Left, string Right) pair)
    {
        for (int i = 0; i + 1 < symbols.Count; i++)
        {
            if (symbols[i] != pair.Left || symbols[i + 1] != pair.Right) continue;
            symbols[i] = pair.Left + pair.Right;
            symbols.RemoveAt(i + 1);
        }
    }
}
