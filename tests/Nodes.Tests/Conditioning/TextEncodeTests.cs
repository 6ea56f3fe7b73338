using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Text;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Conditioning;

/// <summary>CLIPTextEncode and CLIPSetLastLayer on tiny checkpoints, and where the tokenizer comes from.</summary>
public sealed class TextEncodeTests
{
    private NodeTestEnvironment _env = null!;

    [OneTimeSetUp]
    public void SetUp() => _env = NodeTestEnvironment.Create();

    [OneTimeTearDown]
    public void TearDown() => _env.Dispose();

    private ConditioningValue Encode(ClipValue clip, string text) =>
        _env.Run<ConditioningValue>("CLIPTextEncode", ("text", text), ("clip", clip));

    [Test]
    public void A_short_prompt_is_one_77_token_chunk_with_a_pooled_vector()
    {
        using var scope = Torch.NewScope();
        var loaded = _env.LoadCheckpoint();
        try
        {
            using var cond = Encode((ClipValue)loaded.Values[1]!, "a photo of a cat");
            var entry = cond.Entries.Single();
            Assert.That(entry.Cond.Shape, Is.EqualTo(new long[] { 1, 77, 32 }));
            Assert.That(entry.Pooled!.Shape, Is.EqualTo(new long[] { 1, 32 }));
            Assert.That(entry.Cond.Device, Is.EqualTo(Device.Cpu));
            Assert.That(entry.Cond.DType, Is.EqualTo(DType.Float32));
        }
        finally { NodeTestEnvironment.DisposeAll(loaded); }
    }

    [Test]
    public void A_long_prompt_becomes_chunks_joined_along_the_tokens_with_the_first_chunks_pooled_output()
    {
        using var scope = Torch.NewScope();
        var loaded = _env.LoadCheckpoint();
        try
        {
            var clip = (ClipValue)loaded.Values[1]!;
            string first = string.Join(", ", Enumerable.Repeat("portrait of a woman", 20));
            using var longCond = Encode(clip, first + ", red hair");
            var tokenizer = new SDTokenizer(clip.Tokenizer);
            int chunks = tokenizer.TokenizeWithWeights(first + ", red hair").Count;
            Assert.That(chunks, Is.GreaterThan(1), "the prompt must need more than one chunk");
            Assert.That(longCond.Entries[0].Cond.Shape, Is.EqualTo(new long[] { 1, 77 * chunks, 32 }));

            // The pooled output is the first chunk's: the same as encoding that chunk's ids alone.
            var ids = tokenizer.TokenizeWithWeights(first + ", red hair")[0].TokenIds().Select(i => (long)i).ToArray();
            var direct = clip.Model.Forward(Torch.FromArray<long>(ids, [1, 77]));
            Assert.That(longCond.Entries[0].Pooled!.ToArray<float>(), Is.EqualTo(direct.Pooled.ToArray<float>()).Within(1e-5f));
            Assert.That(longCond.Entries[0].Cond.Narrow(1, 0, 77).Contiguous().ToArray<float>(),
                Is.EqualTo(direct.Hidden.ToArray<float>()).Within(1e-5f));
        }
        finally { NodeTestEnvironment.DisposeAll(loaded); }
    }

    [Test]
    public void Weighted_tokens_move_away_from_the_empty_prompt_and_the_others_stay_as_encoded()
    {
        using var scope = Torch.NewScope();
        var loaded = _env.LoadCheckpoint();
        try
        {
            var clip = (ClipValue)loaded.Values[1]!;
            var tokenizer = new SDTokenizer(clip.Tokenizer);
            TokenChunk chunk = tokenizer.TokenizeWithWeights("a (cat:1.5)")[0];
            double[] weights = chunk.Weights();
            Assert.That(weights.Count(w => w == 1.5), Is.GreaterThan(0));

            using var weighted = Encode(clip, "a (cat:1.5)");
            Tensor z = clip.Model.Forward(Torch.FromArray<long>(chunk.TokenIds().Select(i => (long)i).ToArray(), [1, 77])).Hidden;
            Tensor empty = clip.Model.Forward(Torch.FromArray<long>(
                tokenizer.EmptyTokens(77).TokenIds().Select(i => (long)i).ToArray(), [1, 77])).Hidden;
            Tensor zw = weighted.Entries[0].Cond;
            for (int p = 0; p < 77; p++)
            {
                Tensor expected = weights[p] == 1.0 ? z.Narrow(1, p, 1)
                    : (z.Narrow(1, p, 1) - empty.Narrow(1, p, 1)) * weights[p] + empty.Narrow(1, p, 1);
                Assert.That(zw.Narrow(1, p, 1).Contiguous().ToArray<float>(), Is.EqualTo(expected.Contiguous().ToArray<float>()).Within(1e-5f),
                    $"position {p} (weight {weights[p]})");
            }
        }
        finally { NodeTestEnvironment.DisposeAll(loaded); }
    }

    [Test]
    public void CLIPSetLastLayer_selects_an_earlier_layer_without_touching_the_input_clip()
    {
        using var scope = Torch.NewScope();
        var loaded = _env.LoadCheckpoint();
        try
        {
            var clip = (ClipValue)loaded.Values[1]!;
            using var penultimate = _env.Run<ClipValue>("CLIPSetLastLayer", ("clip", clip), ("stop_at_clip_layer", -2L));
            Assert.That(penultimate.Layer, Is.EqualTo(-2));
            Assert.That(clip.Layer, Is.EqualTo(-1));
            using var last = Encode(clip, "a cat");
            using var earlier = Encode(penultimate, "a cat");
            var ids = new SDTokenizer(clip.Tokenizer).TokenizeWithWeights("a cat")[0].TokenIds().Select(i => (long)i).ToArray();
            var reference = clip.Model.Forward(Torch.FromArray<long>(ids, [1, 77]), layer: -2);
            Assert.That(earlier.Entries[0].Cond.ToArray<float>(), Is.EqualTo(reference.Hidden.ToArray<float>()).Within(1e-6f));
            Assert.That(earlier.Entries[0].Cond.ToArray<float>(), Is.Not.EqualTo(last.Entries[0].Cond.ToArray<float>()));
        }
        finally { NodeTestEnvironment.DisposeAll(loaded); }
    }

    [Test]
    public void Textual_inversion_vectors_replace_their_token_positions()
    {
        using var scope = Torch.NewScope();
        string dir = Path.Combine(_env.Models.Root, "embeddings");
        Directory.CreateDirectory(dir);
        using (Torch.NewScope())
            CharacterGen.Tensors.Safetensors.SafetensorsTensors.Save(Path.Combine(dir, "mystyle.safetensors"),
                [new("emb_params", Torch.Full([2, 32], 0.25f))]);
        var loaded = _env.LoadCheckpoint();
        try
        {
            var clip = (ClipValue)loaded.Values[1]!;
            using var withEmbedding = Encode(clip, "a cat embedding:mystyle");
            using var without = Encode(clip, "a cat");
            TokenChunk chunk = new SDTokenizer(clip.Tokenizer, embeddings: clip.Embeddings).TokenizeWithWeights("a cat embedding:mystyle")[0];
            int at = Enumerable.Range(0, chunk.Count).First(p => chunk[p].IsEmbedding);
            Assert.That(chunk.Count(t => t.IsEmbedding), Is.EqualTo(2), "two vectors take two positions");
            Assert.That(withEmbedding.Entries[0].Cond.Shape, Is.EqualTo(new long[] { 1, 77, 32 }));
            // Causal attention: the positions before the embedding are unchanged, the embedding's differ.
            Assert.That(withEmbedding.Entries[0].Cond.Narrow(1, 0, at).Contiguous().ToArray<float>(),
                Is.EqualTo(without.Entries[0].Cond.Narrow(1, 0, at).Contiguous().ToArray<float>()).Within(1e-6f));
            Assert.That(withEmbedding.Entries[0].Cond.Narrow(1, at, 1).Contiguous().ToArray<float>(),
                Is.Not.EqualTo(without.Entries[0].Cond.Narrow(1, at, 1).Contiguous().ToArray<float>()));
        }
        finally { NodeTestEnvironment.DisposeAll(loaded); }
    }

    [Test]
    public void The_sibling_tokenizer_folder_wins_over_the_shared_one()
    {
        using var env = NodeTestEnvironment.Create();
        // A shared tokenizer with another vocabulary: if it were used, ids would differ.
        var shared = Path.Combine(env.Models.Root, "text_encoders", "clip_tokenizer");
        TinyModelWriter.Vocabulary(maxMerges: 10).WriteFiles(shared);
        var tokenizer = env.Cache.TokenizerFor(env.CheckpointPath(NodeTestEnvironment.Checkpoint), env.Models.Root);
        Assert.That(tokenizer.Vocabulary.Count, Is.EqualTo(TinyModelWriter.Vocabulary().Count));
    }

    [Test]
    public void Without_a_sibling_folder_the_shared_tokenizer_is_used_and_its_absence_names_both_places()
    {
        using var env = NodeTestEnvironment.Create();
        Directory.Delete(ModelCache.SiblingTokenizerFolder(env.CheckpointPath(NodeTestEnvironment.Checkpoint)), recursive: true);

        var error = Assert.Throws<TokenizerFilesNotFoundException>(() =>
            env.Cache.TokenizerFor(env.CheckpointPath(NodeTestEnvironment.Checkpoint), env.Models.Root))!;
        Assert.That(error.Message, Does.Contain("tiny.tokenizer").And.Contain(Path.Combine("text_encoders", "clip_tokenizer"))
            .And.Contain("vocab.json").And.Contain("merges.txt"));

        var shared = Path.Combine(env.Models.Root, "text_encoders", "clip_tokenizer");
        TinyModelWriter.Vocabulary().WriteFiles(shared);
        Assert.That(env.Cache.TokenizerFor(env.CheckpointPath(NodeTestEnvironment.Checkpoint), env.Models.Root).Vocabulary.Count,
            Is.EqualTo(TinyModelWriter.Vocabulary().Count));
    }

    [Test]
    public void A_tiny_checkpoint_with_the_real_vocabulary_encodes_through_the_shared_clip_tokenizer_folder()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        Directory.CreateDirectory(Path.GetDirectoryName(env.CheckpointPath("real-vocab.safetensors"))!);
        using (Torch.NewScope())
            CharacterGen.Diffusion.RandomWeights.TestCheckpoints.WriteSd15(env.CheckpointPath("real-vocab.safetensors"), seed: 3);
        string shared = Path.Combine(env.Models.Root, "text_encoders", "clip_tokenizer");
        Directory.CreateDirectory(shared);
        File.Copy(Repository.ClipBpeMerges, Path.Combine(shared, ClipTokenizer.BpeMergesFileName));

        using var scope = Torch.NewScope();
        var loaded = env.LoadCheckpoint("real-vocab.safetensors");
        try
        {
            var clip = (ClipValue)loaded.Values[1]!;
            // Reference test vector: "a photo of a cat" → 49406, 320, 1125, 539, 320, 2368, 49407.
            Assert.That(new SDTokenizer(clip.Tokenizer).TokenizeWithWeights("a photo of a cat")[0].TokenIds().Take(7),
                Is.EqualTo(new[] { 49406, 320, 1125, 539, 320, 2368, 49407 }));
            using var cond = env.Run<ConditioningValue>("CLIPTextEncode", ("text", "a photo of a cat"), ("clip", clip));
            Assert.That(cond.Entries[0].Cond.Shape, Is.EqualTo(new long[] { 1, 77, 32 }));
        }
        finally { NodeTestEnvironment.DisposeAll(loaded); }
    }
}
