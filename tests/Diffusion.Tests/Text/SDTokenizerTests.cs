using System.Text.Json;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.Tests.Text;

public sealed class SDTokenizerTests
{
    private static readonly int[] CatHead = [49406, 320, 1125, 539, 320, 2368, 49407];

    [Test]
    public void SD1PadsWithTheEndToken()
    {
        var chunks = new SDTokenizer(ClipTestData.Tokenizer()).TokenizeWithWeights("a photo of a cat");
        Assert.That(chunks, Has.Count.EqualTo(1));
        Assert.That(chunks[0].TokenIds(), Is.EqualTo(CatHead.Concat(Enumerable.Repeat(49407, 70))));
        Assert.That(chunks[0].Weights(), Is.All.EqualTo(1.0));
        Assert.That(chunks[0].HasWeights, Is.False);
    }

    [Test]
    public void SdxlClipGPadsWithZero()
    {
        var chunks = new SDTokenizer(ClipTestData.Tokenizer(), SDTokenizerOptions.ClipG).TokenizeWithWeights("a photo of a cat");
        Assert.That(chunks.Single().TokenIds(), Is.EqualTo(CatHead.Concat(Enumerable.Repeat(0, 70))));
    }

    [Test]
    public void AnEmptyPromptIsOneChunkOfStartEndAndPadding()
    {
        var chunk = new SDTokenizer(ClipTestData.Tokenizer()).TokenizeWithWeights("").Single();
        Assert.That(chunk.TokenIds(), Is.EqualTo(new[] { 49406 }.Concat(Enumerable.Repeat(49407, 76))));
        var g = new SDTokenizer(ClipTestData.Tokenizer(), SDTokenizerOptions.ClipG).TokenizeWithWeights("").Single();
        Assert.That(g.TokenIds(), Is.EqualTo(new[] { 49406, 49407 }.Concat(Enumerable.Repeat(0, 75))));
    }

    [Test]
    public void WeightsReachEveryTokenOfTheirRun()
    {
        var chunk = new SDTokenizer(ClipTestData.Tokenizer()).TokenizeWithWeights("a (red hair:1.3) girl").Single();
        Assert.That(chunk.Take(6).Select(t => (t.TokenId, t.Weight)),
            Is.EqualTo(new[] { (49406, 1.0), (320, 1.0), (736, 1.3), (2225, 1.3), (1611, 1.0), (49407, 1.0) }));
        Assert.That(chunk.HasWeights, Is.True);
    }

    [Test]
    public void ALongPromptIsChunkedWithStartAndEndInEachChunk()
    {
        string prompt = string.Join(", ", Enumerable.Range(0, 60).Select(i => $"word{i}"));
        var chunks = new SDTokenizer(ClipTestData.Tokenizer()).TokenizeWithWeights(prompt);
        int total = ClipTestData.Tokenizer().Encode(prompt).Count;
        Assert.That(total, Is.GreaterThan(150));
        Assert.That(chunks, Has.Count.EqualTo((total + 74) / 75));
        foreach (TokenChunk c in chunks)
        {
            Assert.That(c, Has.Count.EqualTo(77));
            Assert.That(c[0].TokenId, Is.EqualTo(49406));
        }
        // One unweighted run is one long group, so it is split at exactly 75 tokens.
        Assert.That(chunks.Take(chunks.Count - 1).Select(c => c[76].TokenId), Is.All.EqualTo(49407));
        Assert.That(chunks.SelectMany(c => c.Skip(1).Take(75)).Where(t => t.TokenId != 49407).Select(t => t.TokenId),
            Is.EqualTo(ClipTestData.Tokenizer().Encode(prompt)));
    }

    [Test]
    public void AShortWeightedRunIsNotSplitAcrossChunks()
    {
        // 73 tokens, then a 5-token run that would cross position 76: it moves whole to the second chunk.
        string prompt = string.Concat(Enumerable.Repeat("a ", 73)) + "(red hair, blue eyes:1.1)";
        var chunks = new SDTokenizer(ClipTestData.Tokenizer()).TokenizeWithWeights(prompt);
        Assert.That(chunks, Has.Count.EqualTo(2));
        Assert.That(chunks[0].TokenIds()[74..], Is.EqualTo(new[] { 49407, 49407, 49407 }));
        Assert.That(chunks[1].TokenIds()[..7], Is.EqualTo(new[] { 49406, 736, 2225, 267, 1746, 3095, 49407 }));
        Assert.That(chunks[1].Skip(1).Take(5).Select(t => t.Weight), Is.All.EqualTo(1.1));
    }

    /// <summary>All chunk layouts of the fixture (weights, long prompts, boundaries, embeddings), computed in Python
    /// with ComfyUI's rules; embedding positions are written "name#index" there.</summary>
    [Test]
    public void MatchTheReferenceChunks()
    {
        var lookup = new DictionaryLookup(ClipTestData.Cases("embeddings").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.GetInt32()));
        Assert.Multiple(() =>
        {
            foreach (JsonElement c in ClipTestData.Cases("chunks").EnumerateArray())
            {
                string prompt = c.GetProperty("prompt").GetString()!;
                var options = c.GetProperty("pad").GetString() == "zero" ? SDTokenizerOptions.ClipG : SDTokenizerOptions.ClipL;
                var warnings = new List<string>();
                var chunks = new SDTokenizer(ClipTestData.Tokenizer(), options, lookup, warnings.Add).TokenizeWithWeights(prompt);

                var expected = c.GetProperty("chunks").EnumerateArray()
                    .Select(chunk => chunk.EnumerateArray().Select(ToToken).ToArray()).ToArray();
                Assert.That(chunks.Select(x => x.ToArray()), Is.EqualTo(expected), ClipTestData.Shorten(prompt));
                Assert.That(warnings, Is.EqualTo(c.GetProperty("warnings").EnumerateArray().Select(w => w.GetString())), prompt);
            }
        });
    }

    [Test]
    public void EmbeddingReferencesBecomeSlotsCarryingTheName()
    {
        var lookup = new DictionaryLookup(new() { ["style"] = 2 });
        var chunk = new SDTokenizer(ClipTestData.Tokenizer(), embeddings: lookup)
            .TokenizeWithWeights("a cat, (embedding:style:1.2) painting").Single();
        Assert.That(chunk.Skip(1).Take(6).Select(t => t.ToString()),
            Is.EqualTo(new[] { "320", "2368", "267", "style[0]:1.2", "style[1]:1.2", ClipTestData.Vocabulary.Ids["painting</w>"].ToString() }));
        Assert.That(chunk[4].TokenId, Is.EqualTo(PromptToken.EmbeddingTokenId));
        Assert.That(chunk[4].Embedding, Is.EqualTo(new EmbeddingSlot("style", 0)));
        Assert.That(chunk.HasEmbeddings, Is.True);
    }

    [Test]
    public void UnknownEmbeddingsAreReportedAndDropped()
    {
        var warnings = new List<string>();
        var chunk = new SDTokenizer(ClipTestData.Tokenizer(), warn: warnings.Add).TokenizeWithWeights("a embedding:nothing cat").Single();
        Assert.That(chunk.TokenIds()[..4], Is.EqualTo(new[] { 49406, 320, 2368, 49407 }));
        Assert.That(warnings, Is.EqualTo(new[] { "warning, embedding:nothing cat does not exist, ignoring" }));

        // A bare "embedding:" (ComfyUI raises here) is reported too.
        warnings.Clear();
        Assert.That(new SDTokenizer(ClipTestData.Tokenizer(), warn: warnings.Add).TokenizeWithWeights("cat embedding:").Single()
            .TokenIds()[..3], Is.EqualTo(new[] { 49406, 2368, 49407 }));
        Assert.That(warnings, Has.Count.EqualTo(1));
    }

    [Test]
    public void WithoutPaddingChunksEndAtTheEndToken()
    {
        var options = SDTokenizerOptions.ClipL with { PadToMaxLength = false };
        string prompt = string.Concat(Enumerable.Repeat("a ", 73)) + "(red hair, blue eyes:1.1)";
        var chunks = new SDTokenizer(ClipTestData.Tokenizer(), options).TokenizeWithWeights(prompt);
        Assert.That(chunks.Select(c => c.Count), Is.EqualTo(new[] { 75, 7 }));
        Assert.That(chunks.Select(c => c[^1].TokenId), Is.All.EqualTo(49407));
    }

    [Test]
    public void DisabledWeightsKeepParenthesesAsText()
    {
        var options = SDTokenizerOptions.ClipL with { DisableWeights = true };
        var chunk = new SDTokenizer(ClipTestData.Tokenizer(), options).TokenizeWithWeights("(cat:1.2) \\(dog\\)").Single();
        var plain = ClipTestData.Tokenizer().Encode("(cat:1.2) (dog)");
        Assert.That(chunk.TokenIds()[1..(1 + plain.Count)], Is.EqualTo(plain));
        Assert.That(chunk.HasWeights, Is.False);
    }

    [Test]
    public void TheEmptyPromptForWeightingUsesThePadToken()
    {
        Assert.That(new SDTokenizer(ClipTestData.Tokenizer()).EmptyTokens(5).TokenIds(), Is.EqualTo(new[] { 49406, 49407, 49407, 49407, 49407 }));
        Assert.That(new SDTokenizer(ClipTestData.Tokenizer(), SDTokenizerOptions.ClipG).EmptyTokens(4).TokenIds(), Is.EqualTo(new[] { 49406, 49407, 0, 0 }));
    }

    [Test]
    public void OptionsThatCouldNeverPlaceAWordAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new SDTokenizer(ClipTestData.Tokenizer(), new SDTokenizerOptions { MaxLength = 2 }));
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            new SDTokenizer(ClipTestData.Tokenizer(), new SDTokenizerOptions { MaxLength = 8, MaxWordLength = 8 }));
    }

    private static PromptToken ToToken(JsonElement pair)
    {
        double weight = pair[1].GetDouble();
        if (pair[0].ValueKind == JsonValueKind.Number) return new PromptToken(pair[0].GetInt32(), weight);
        string[] slot = pair[0].GetString()!.Split('#');
        return PromptToken.ForEmbedding(new EmbeddingSlot(slot[0], int.Parse(slot[1])), weight);
    }

    private sealed class DictionaryLookup(Dictionary<string, int> counts) : IEmbeddingLookup
    {
        public int? VectorCount(string name) => counts.TryGetValue(name, out int n) ? n : null;
    }
}
