using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Conditioning;

/// <summary>A tiny SDXL checkpoint through CheckpointLoaderSimple, CLIPTextEncode(SDXL) and KSampler.</summary>
public sealed class SdxlNodeTests
{
    private const string Name = "tiny_sdxl.safetensors";
    private NodeTestEnvironment _env = null!;
    private NodeOutput _loaded = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create(withCheckpoint: false);
        using (Torch.NewScope()) TinyModelWriter.WriteSdxl(_env.CheckpointPath(Name), seed: 4);
        _loaded = _env.LoadCheckpoint(Name);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        NodeTestEnvironment.DisposeAll(_loaded);
        _env.Dispose();
    }

    private ClipValue Clip => (ClipValue)_loaded.Values[1]!;

    [Test]
    public void The_checkpoint_loads_as_sdxl()
    {
        var model = (ModelValue)_loaded.Values[0]!;
        Assert.That(model.LatentFormat, Is.EqualTo(LatentFormat.SDXL));
        Assert.That(Clip.ModelG, Is.Not.Null);
        Assert.That(Clip.Layer, Is.EqualTo(-2));
        Assert.That(Clip.NormalizeHidden, Is.False);
    }

    [Test]
    public void ClipTextEncode_joins_clip_l_and_clip_g_and_pools_clip_g()
    {
        using var scope = Torch.NewScope();
        using var cond = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "a photo of a cat"), ("clip", Clip));
        ConditioningEntry e = cond.Entries.Single();
        Assert.That(e.Cond.Shape, Is.EqualTo(new long[] { 1, 77, 32 + 48 }));
        Assert.That(e.Pooled!.Shape, Is.EqualTo(new long[] { 1, 40 }));
        Assert.That(e.Size, Is.Null);
    }

    [Test]
    public void ClipTextEncodeSDXL_pads_the_shorter_prompt_and_keeps_the_sizes()
    {
        using var scope = Torch.NewScope();
        string longText = string.Join(", ", Enumerable.Repeat("a photo of a cat", 30));
        using var cond = _env.Run<ConditioningValue>("CLIPTextEncodeSDXL", ("clip", Clip), ("width", 1024L), ("height", 768L),
            ("crop_w", 0L), ("crop_h", 32L), ("target_width", 1024L), ("target_height", 768L), ("text_g", longText), ("text_l", "a cat"));
        ConditioningEntry e = cond.Entries.Single();
        Assert.That(e.Cond.Size(1), Is.GreaterThan(77), "the clip_l prompt got empty chunks to match clip_g's");
        Assert.That(e.Cond.Size(1) % 77, Is.EqualTo(0));
        Assert.That(e.Size, Is.EqualTo(new SdxlSizeConditioning(1024, 768, 0, 32, 1024, 768)));
    }

    [Test]
    public void Sdxl_embeddings_give_clip_l_and_clip_g_their_own_vectors()
    {
        using var scope = Torch.NewScope();
        string dir = Path.Combine(_env.Models.Root, "embeddings");
        Directory.CreateDirectory(dir);
        using (Torch.NewScope())
            CharacterGen.Tensors.Safetensors.SafetensorsTensors.Save(Path.Combine(dir, "xlstyle.safetensors"),
                [new("clip_g", Torch.Full([2, 48], 0.25f)), new("clip_l", Torch.Full([2, 32], 0.5f))]);
        using var with = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "a cat embedding:xlstyle"), ("clip", Clip));
        using var without = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "a cat"), ("clip", Clip));
        Assert.That(with.Entries[0].Cond.Shape, Is.EqualTo(new long[] { 1, 77, 80 }));
        Assert.That(with.Entries[0].Pooled!.ToArray<float>(), Is.Not.EqualTo(without.Entries[0].Pooled!.ToArray<float>()));
    }

    [Test]
    public void Sdxl_latent_previews_use_sdxls_rgb_factors_and_bias()
    {
        using var scope = Torch.NewScope();
        Tensor zeros = Torch.Zeros([1, 4, 2, 2]);
        byte[] sd15 = CharacterGen.Diffusion.Imaging.ImageDecoder.Decode(CharacterGen.Nodes.Sampling.LatentPreview.Png(zeros)).Pixels;
        byte[] sdxl = CharacterGen.Diffusion.Imaging.ImageDecoder.Decode(
            CharacterGen.Nodes.Sampling.LatentPreview.Png(zeros, LatentFormat.SDXL)).Pixels;
        // A zero latent shows the bias: (0.1084 + 1) / 2 red, (−0.0175 + 1) / 2 green.
        Assert.That(sdxl[0], Is.GreaterThan(sd15[0] + 10));
        Assert.That(sdxl[1], Is.LessThan(sd15[1]));
    }

    [Test]
    public void KSampler_runs_on_sdxl_with_both_encoders()
    {
        using var scope = Torch.NewScope();
        using var positive = _env.Run<ConditioningValue>("CLIPTextEncodeSDXL", ("clip", Clip), ("width", 1024L), ("height", 1024L),
            ("crop_w", 0L), ("crop_h", 0L), ("target_width", 1024L), ("target_height", 1024L), ("text_g", "a cat"), ("text_l", "a cat"));
        using var negative = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "blurry"), ("clip", Clip));
        using var empty = new LatentValue(Torch.Zeros([1, 4, 8, 8]));
        using var result = _env.Run<LatentValue>("KSampler", ("model", _loaded.Values[0]), ("seed", 3L), ("steps", 3L), ("cfg", 5.0),
            ("sampler_name", "euler"), ("scheduler", "normal"), ("positive", positive), ("negative", negative),
            ("latent_image", empty), ("denoise", 1.0));
        float[] samples = result.Samples.ToArray<float>();
        Assert.That(samples, Has.Length.EqualTo(4 * 8 * 8));
        Assert.That(samples.All(float.IsFinite), Is.True);
    }
}
