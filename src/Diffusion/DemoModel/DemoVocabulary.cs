using System.Text;
using System.Text.Json;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// The demo model's small CLIP vocabulary: CLIP's byte symbols plus merges that make every caption word one token, so
/// "a red circle" is three tokens. Written as Hugging Face's vocab.json + merges.txt.
/// </summary>
public static class DemoVocabulary
{
    public static ClipVocabulary Build()
    {
        // Add merges until each word is one token: a merge added later ranks lower, so joining a word's first two pieces
        // never splits a word finished earlier.
        var merges = new List<(string, string)>();
        foreach (string word in DemoPalette.CaptionWords().Order(StringComparer.Ordinal))
        {
            while (true)
            {
                IReadOnlyList<string> pieces = new ClipTokenizer(ClipVocabulary.FromMerges(merges)).Tokenize(word);
                if (pieces.Count == 1) break;
                merges.Add((pieces[0], pieces[1]));
            }
        }
        return ClipVocabulary.FromMerges(merges);
    }

    /// <summary>vocab.json (token → id, by id) and merges.txt (a version line, then "left right") into <paramref name="folder"/>.</summary>
    public static void WriteFiles(string folder, ClipVocabulary vocabulary)
    {
        Directory.CreateDirectory(folder);
        var ordered = vocabulary.Ids.OrderBy(p => p.Value).ToDictionary(p => p.Key, p => p.Value);
        File.WriteAllText(Path.Combine(folder, ClipTokenizer.VocabFileName), JsonSerializer.Serialize(ordered), new UTF8Encoding(false));
        var lines = new StringBuilder("#version: 0.2\n");
        foreach (var (left, right) in vocabulary.Merges) lines.Append(left).Append(' ').Append(right).Append('\n');
        File.WriteAllText(Path.Combine(folder, ClipTokenizer.MergesFileName), lines.ToString(), new UTF8Encoding(false));
    }
}
