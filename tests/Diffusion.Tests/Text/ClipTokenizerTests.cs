using System.Text.Json;
using CharacterGen.Diffusion.Text;

namespace CharacterGen.Diffusion.Tests.Text;

public sealed class ClipTokenizerTests
{
    [Test]
    public void TheVocabularyIsDerivedFromTheMergesAsClipDoes()
    {
        ClipVocabulary v = ClipTestData.Vocabulary;
        Assert.Multiple(() =>
        {
            Assert.That(v.Count, Is.EqualTo(49408));
            Assert.That(v.Merges, Has.Count.EqualTo(ClipVocabulary.ClipMergeCount));
            Assert.That(v.Merges[0], Is.EqualTo(("i", "n")));
            Assert.That(v.StartId, Is.EqualTo(49406));
            Assert.That(v.EndId, Is.EqualTo(49407));
            // Byte symbols: printable ASCII from '!' first; space (0x20) is the 189th, remapped to U+0120 'Ġ'.
            Assert.That(v.Ids["!"], Is.EqualTo(0));
            Assert.That(v.Ids["a"], Is.EqualTo(64));
            Assert.That(v.Ids["\u0120"], Is.EqualTo(188 + 32));
            Assert.That(v.Ids["a</w>"], Is.EqualTo(256 + 64));
            Assert.That(v.Ids["in"], Is.EqualTo(512));
            Assert.That(v.TokenOf(2368), Is.EqualTo("cat</w>"));
        });
    }

    [Test]
    public void APhotoOfACatGivesTheReferenceIds() =>
        Assert.That(ClipTestData.Tokenizer().Encode("a photo of a cat"), Is.EqualTo(new[] { 320, 1125, 539, 320, 2368 }));

    /// <summary>A word that is itself a vocabulary entry must BPE to that one entry: checks the merge loop against the
    /// vocabulary directly, without any precomputed ids.</summary>
    [TestCase("cat"), TestCase("photo"), TestCase("masterpiece"), TestCase("quality"), TestCase("lighthouse")]
    [TestCase("photograph"), TestCase("detailed"), TestCase("mountain"), TestCase("cinematic"), TestCase("the")]
    public void AWholeWordInTheVocabularyIsOneToken(string word)
    {
        Assert.That(ClipTestData.Vocabulary.TryGetId(word + "</w>", out int id), $"{word}</w> in the vocabulary");
        Assert.That(ClipTestData.Tokenizer().Encode(word), Is.EqualTo(new[] { id }));
        Assert.That(ClipTestData.Tokenizer().Encode(word.ToUpperInvariant() + "  "), Is.EqualTo(new[] { id }));
    }

    [TestCaseSource(typeof(ClipTestData), nameof(ClipTestData.TokenizerPrompts))]
    public void MatchesTheReferenceTokenizer(string prompt, int[] comfyUI, int[] openAI)
    {
        Assert.That(ClipTestData.Tokenizer(ClipTextCleanup.ComfyUI).Encode(prompt), Is.EqualTo(comfyUI), "ComfyUI clean-up");
        Assert.That(ClipTestData.Tokenizer(ClipTextCleanup.OpenAI).Encode(prompt), Is.EqualTo(openAI), "OpenAI clean-up");
    }

    // 東 is UTF-8 E6 9D B1, spelled æĿ± in byte-level symbols; 京 is E4 BA AC, äº¬.
    [TestCase("東京", new[] { "æĿ", "±</w>", "äº", "¬</w>" }, new[] { "æĿ±", "äº", "¬</w>" })]
    [TestCase("tom &amp; jerry", new[] { "tom</w>", "&</w>", "amp</w>", ";</w>", "jerry</w>" }, new[] { "tom</w>", "&</w>", "jerry</w>" })]
    public void TheCleanUpsDifferWhereDocumented(string text, string[] comfyUI, string[] openAI)
    {
        Assert.That(ClipTestData.Tokenizer(ClipTextCleanup.ComfyUI).Tokenize(text), Is.EqualTo(comfyUI),
            "ComfyUI puts a space around every CJK ideograph and keeps HTML entities");
        Assert.That(ClipTestData.Tokenizer(ClipTextCleanup.OpenAI).Tokenize(text), Is.EqualTo(openAI));
    }

    [Test]
    public void TheHuggingFaceFilesGiveTheSameIdsAsTheBpeFile()
    {
        string models = Directory.CreateTempSubdirectory("cg-tokenizer-").FullName;
        try
        {
            string folder = Path.Combine(models, "text_encoders", "clip_tokenizer");
            Directory.CreateDirectory(folder);
            ClipVocabulary v = ClipTestData.Vocabulary;
            File.WriteAllText(Path.Combine(folder, "vocab.json"), JsonSerializer.Serialize(v.Ids));
            File.WriteAllLines(Path.Combine(folder, "merges.txt"),
                ["#version: 0.2", .. v.Merges.Select(m => $"{m.Left} {m.Right}")]);

            ClipTokenizer hf = ClipTokenizer.FromModelsFolder(models);
            Assert.That(hf.Vocabulary.Count, Is.EqualTo(v.Count));
            foreach (TestCaseData c in ClipTestData.TokenizerPrompts())
            {
                string prompt = (string)c.Arguments[0]!;
                Assert.That(hf.Encode(prompt), Is.EqualTo(ClipTestData.Tokenizer().Encode(prompt)), prompt);
            }
        }
        finally { Directory.Delete(models, recursive: true); }
    }

    [Test]
    public void TheModelsFolderMayHoldTheBpeFile()
    {
        string models = Directory.CreateTempSubdirectory("cg-tokenizer-").FullName;
        try
        {
            string folder = Path.Combine(models, ClipTokenizer.ModelsSubfolder);
            Directory.CreateDirectory(folder);
            File.Copy(ClipTestData.BpeMergesPath, Path.Combine(folder, ClipTokenizer.BpeMergesFileName));
            Assert.That(ClipTokenizer.FromModelsFolder(models).Encode("a photo of a cat"), Is.EqualTo(new[] { 320, 1125, 539, 320, 2368 }));
        }
        finally { Directory.Delete(models, recursive: true); }
    }

    [Test]
    public void MissingFilesAreNamedWithTheirFolder()
    {
        string models = Directory.CreateTempSubdirectory("cg-tokenizer-").FullName;
        try
        {
            string folder = Path.Combine(models, "text_encoders", "clip_tokenizer");
            var e = Assert.Throws<TokenizerFilesNotFoundException>(() => ClipTokenizer.FromModelsFolder(models))!;
            Assert.That(e.Folder, Is.EqualTo(folder));
            Assert.That(e.Message, Does.Contain("bpe_simple_vocab_16e6.txt.gz").And.Contain("vocab.json")
                .And.Contain("merges.txt").And.Contain(folder));

            Directory.CreateDirectory(folder);
            File.WriteAllText(Path.Combine(folder, "vocab.json"), "{}");
            e = Assert.Throws<TokenizerFilesNotFoundException>(() => ClipTokenizer.FromModelsFolder(models))!;
            Assert.That(e.Message, Does.Contain("merges.txt is missing"));
        }
        finally { Directory.Delete(models, recursive: true); }
    }

    [Test]
    public void DecodeGivesTheCleanedTextBack()
    {
        ClipTokenizer t = ClipTestData.Tokenizer();
        Assert.That(t.Decode([49406, .. t.Encode("A Photo of a CAT, café 🐱"), 49407]), Is.EqualTo("a photo of a cat , café 🐱"));
    }

    [Test]
    public void ConcurrentEncodingAgreesWithSequential()
    {
        ClipTokenizer t = new(ClipTestData.Vocabulary);
        string[] prompts = ClipTestData.TokenizerPrompts().Select(c => (string)c.Arguments[0]!).ToArray();
        var expected = prompts.Select(p => ClipTestData.Tokenizer().Encode(p)).ToArray();
        Parallel.For(0, 200, i => Assert.That(t.Encode(prompts[i % prompts.Length]), Is.EqualTo(expected[i % prompts.Length])));
    }

    [Test]
    public void ATinyInMemoryTokenizerMergesByRank()
    {
        // Symbols l, o, w; merges: "l o" first, then "lo w</w>"; "o w</w>" has a worse rank than "l o".
        var ids = new Dictionary<string, int>
        {
            ["l"] = 0, ["o"] = 1, ["w"] = 2, ["w</w>"] = 3, ["lo"] = 4, ["low</w>"] = 5, ["ow</w>"] = 6, ["o</w>"] = 7,
            ["<|startoftext|>"] = 8, ["<|endoftext|>"] = 9,
        };
        var t = new ClipTokenizer(ids, [("l", "o"), ("lo", "w</w>"), ("o", "w</w>")]);
        Assert.That(t.Tokenize("low"), Is.EqualTo(new[] { "low</w>" }));
        Assert.That(t.Tokenize("ow"), Is.EqualTo(new[] { "ow</w>" }));
        Assert.That(t.Encode("low lo ow"), Is.EqualTo(new[] { 5, 0, 7, 6 }));
        // A piece the tiny vocabulary cannot spell maps to CLIP's unknown token, <|endoftext|>.
        Assert.That(t.Encode("x"), Is.EqualTo(new[] { 9 }));
    }

    [Test]
    public void AVocabularyWithoutSpecialTokensIsRefused() =>
        Assert.Throws<ArgumentException>(() => new ClipTokenizer(new Dictionary<string, int> { ["a"] = 0 }, []));
}
