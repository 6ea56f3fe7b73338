using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Checkpoints;

public sealed class CheckpointLoaderTests
{
    private string _dir = null!;

    [SetUp]
    public void MakeDirectory() => _dir = Directory.CreateTempSubdirectory("cg-ckpt-").FullName;

    [TearDown]
    public void RemoveDirectory() => Directory.Delete(_dir, recursive: true);

    /// <summary>Rewrites the fixture checkpoint through <paramref name="edit"/> (name → tensor, in file order).</summary>
    private string RewriteFixture(string name, Action<List<KeyValuePair<string, Tensor>>> edit, bool keepMetadata = true)
    {
        using var scope = Torch.NewScope();
        using var file = SafetensorsFile.Open(ModelFixture.CheckpointPath);
        var tensors = file.Entries.Select(e => new KeyValuePair<string, Tensor>(e.Name, file.LoadTensor(e.Name))).ToList();
        edit(tensors);
        string path = Path.Combine(_dir, name);
        SafetensorsTensors.Save(path, tensors, keepMetadata ? file.Metadata.ToDictionary() : null);
        return path;
    }

    [Test]
    public void TheFixtureLoadsWithItsStoredConfig()
    {
        using var ckpt = ModelFixture.Load();
        Assert.That(ckpt.ConfigSource, Is.EqualTo(ConfigSource.Metadata));
        Assert.That(ckpt.Family, Is.EqualTo(ModelFamily.SD1Checkpoint));
        Assert.That(ckpt.Prediction, Is.EqualTo(PredictionType.Epsilon));
        Assert.That(ckpt.UnusedKeys, Is.Empty);
        Assert.That(ckpt.Unet!.OutConv.Weight.Value.DType, Is.EqualTo(DType.Float32), "float16 file widened to the requested dtype");
    }

    [Test]
    public void AMissingKeyIsNamed()
    {
        const string key = "model.diffusion_model.middle_block.1.transformer_blocks.0.attn2.to_k.weight";
        string path = RewriteFixture("missing.safetensors", t => t.RemoveAll(p => p.Key == key));
        var e = Assert.Throws<CheckpointLoadException>(() => CheckpointLoader.Load(path))!;
        Assert.That(e.Message, Does.Contain("1 missing").And.Contain(key));
        Assert.That(e.Missing, Is.EqualTo(new[] { key }));
    }

    [Test]
    public void AWrongShapeIsNamedWithBothShapes()
    {
        const string key = "first_stage_model.decoder.conv_in.weight";
        string path = RewriteFixture("shape.safetensors", t =>
        {
            int i = t.FindIndex(p => p.Key == key);
            t[i] = new(key, Torch.Zeros([32, 4, 1, 1]));
        });
        var e = Assert.Throws<CheckpointLoadException>(() => CheckpointLoader.Load(path))!;
        Assert.That(e.Message, Does.Contain(key).And.Contain("[32, 4, 1, 1]").And.Contain("[32, 4, 3, 3]"));
        Assert.That(e.Mismatched, Has.Count.EqualTo(1));
    }

    [Test]
    public void ExtraKeysAreIgnoredButCounted()
    {
        string path = RewriteFixture("extra.safetensors", t =>
        {
            t.Add(new("cond_stage_model.transformer.text_model.embeddings.position_ids", Torch.Arange(0, 77, dtype: DType.Int64).Unsqueeze(0)));
            t.Add(new("model_ema.decay", Torch.Scalar(0.999)));
        });
        using var ckpt = CheckpointLoader.Load(path);
        Assert.That(ckpt.UnusedKeys, Is.EqualTo(new[] { "cond_stage_model.transformer.text_model.embeddings.position_ids", "model_ema.decay" }));
    }

    [Test]
    public void WithoutMetadataTheConfigIsDetectedAndTheOutputsAreTheSame()
    {
        string path = RewriteFixture("plain.safetensors", _ => { }, keepMetadata: false);
        using var ckpt = CheckpointLoader.Load(path);
        Assert.That(ckpt.ConfigSource, Is.EqualTo(ConfigSource.Detected));
        using var scope = Torch.NewScope();
        Tensor eps = ckpt.Unet!.Forward(ModelFixture.Io("unet.x"), ModelFixture.Io("unet.t"), ModelFixture.Io("unet.context"));
        TensorCompare.Close(eps, ModelFixture.Io("unet.out"));
    }

    [Test]
    public void ClipWithoutTheTextModelPrefixLoads()
    {
        string path = RewriteFixture("oldclip.safetensors", t =>
        {
            for (int i = 0; i < t.Count; i++)
                t[i] = new(t[i].Key.Replace("cond_stage_model.transformer.text_model.", "cond_stage_model.transformer.", StringComparison.Ordinal), t[i].Value);
        }, keepMetadata: false);
        using var ckpt = CheckpointLoader.Load(path);
        using var scope = Torch.NewScope();
        TensorCompare.Close(ckpt.Clip!.Forward(ModelFixture.Io("clip.ids")).Hidden, ModelFixture.Io("clip.last"));
    }

    [Test]
    public void OnlyTheRequestedPartsAreLoaded()
    {
        using var ckpt = CheckpointLoader.Load(ModelFixture.CheckpointPath, parts: CheckpointParts.Vae);
        Assert.That(ckpt.Unet, Is.Null);
        Assert.That(ckpt.Clip, Is.Null);
        Assert.That(ckpt.Vae, Is.Not.Null);
        Assert.That(ckpt.UnusedKeys, Has.All.StartWith("model.diffusion_model.").Or.StartWith("cond_stage_model."));
    }

    [Test]
    public void AVaeFileWithoutPrefixLoadsAsTheCheckpointsVae()
    {
        string path = RewriteFixture("vae.safetensors", t =>
        {
            t.RemoveAll(p => !p.Key.StartsWith("first_stage_model.", StringComparison.Ordinal));
            for (int i = 0; i < t.Count; i++) t[i] = new(t[i].Key["first_stage_model.".Length..], t[i].Value);
        }, keepMetadata: false);
        using (var file = SafetensorsFile.Open(path))
            Assert.That(ModelFamilyDetector.Detect(file.Entries.Select(e => e.Name)), Is.EqualTo(ModelFamily.Vae));
        using var vae = CheckpointLoader.LoadVae(path);
        using var scope = Torch.NewScope();
        TensorCompare.Close(vae.Decode(ModelFixture.Io("vae.latent")), ModelFixture.Io("vae.decoded"));
        var e = Assert.Throws<CheckpointLoadException>(() => CheckpointLoader.Load(path))!;
        Assert.That(e.Message, Does.Contain("LoadVae"));
    }

    [Test]
    public void ACheckpointWithoutTextEncoderLoadsItsOtherParts()
    {
        string path = RewriteFixture("noclip.safetensors", t => t.RemoveAll(p => p.Key.StartsWith("cond_stage_model.", StringComparison.Ordinal)),
            keepMetadata: false);
        var e = Assert.Throws<CheckpointLoadException>(() => CheckpointLoader.Load(path))!;
        Assert.That(e.Message, Does.Contain("no text encoder"));
        using var ckpt = CheckpointLoader.Load(path, parts: CheckpointParts.Unet | CheckpointParts.Vae);
        Assert.That(ckpt.Config.Clip, Is.Null);
        Assert.That(ckpt.Unet, Is.Not.Null);
    }

    [Test]
    public void AGeneratedVaeFileLoads()
    {
        string path = Path.Combine(_dir, "tiny_vae.safetensors");
        TestCheckpoints.WriteVae(path, seed: 3);
        using var vae = CheckpointLoader.LoadVae(path);
        using var scope = Torch.NewScope();
        Tensor image = vae.Decode(Torch.Zeros([1, 4, 2, 3]));
        Assert.That(image.Shape, Is.EqualTo(new long[] { 1, 3, 16, 24 }));
        TensorCompare.Finite(image);
    }

    [Test]
    public void Sd2OpenClipWeightsAreSplitIntoQueryKeyAndValue()
    {
        var config = TinySizes.Default.ToConfig() with
        {
            Family = "sd2",
            Unet = TinySizes.Default.Unet with { UseLinearInTransformer = true, NumHeads = -1, NumHeadChannels = 16 },
            Clip = TinySizes.Default.Clip with { VocabSize = 1000, HiddenAct = "gelu" },
        };
        string path = Path.Combine(_dir, "sd2.safetensors");
        TestCheckpoints.Write(path, config, seed: 5);
        using var ckpt = CheckpointLoader.Load(path);
        Assert.That(ckpt.Family, Is.EqualTo(ModelFamily.SD2Checkpoint));
        Assert.That(ckpt.DefaultClipLayer, Is.EqualTo(-2));
        using var scope = Torch.NewScope();
        using var file = SafetensorsFile.Open(path);
        Tensor fused = file.LoadTensor("cond_stage_model.model.transformer.resblocks.1.attn.in_proj_weight");
        var attn = ckpt.Clip!.Encoder.Layers[1].SelfAttn;
        TensorCompare.Close(attn.KProj.Weight.Value, fused.Narrow(0, 32, 32), rel: 0, what: "k_proj");
        TensorCompare.Close(attn.VProj.Weight.Value, fused.Narrow(0, 64, 32), rel: 0, what: "v_proj");
        var r = ckpt.Clip.Forward(Torch.FromArray<long>([998, 5, 6, 999], [1, 4]), ckpt.DefaultClipLayer);
        TensorCompare.Finite(r.Hidden);
        TensorCompare.Finite(ckpt.Unet!.Forward(Torch.Zeros([1, 4, 4, 4]), Torch.Full([1], 500), r.Hidden));
    }

    [Test]
    public void WeightsTakeTheRequestedDtype()
    {
        using var ckpt = CheckpointLoader.Load(ModelFixture.CheckpointPath, DType.BFloat16, parts: CheckpointParts.Clip);
        Assert.That(ckpt.Clip!.FinalLayerNorm.Weight!.Value.DType, Is.EqualTo(DType.BFloat16));
    }
}
