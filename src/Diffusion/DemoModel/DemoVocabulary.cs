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
}
