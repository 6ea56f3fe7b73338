using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Lora;

public sealed class LoraPatchTests
{
    private const string Attn1Q = "input_blocks.1.1.transformer_blocks.0.attn1.to_q.weight";
    private const string Attn2K = "input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight";
    private const string ProjIn = "input_blocks.3.1.proj_in.weight"; // SD1: a 1×1 convolution
    private const string ResConv = "input_blocks.1.0.in_layers.2.weight"; // 3×3 convolution
    private const string UpOut = "output_blocks.1.1.transformer_blocks.0.attn1.to_out.0.weight";
    private const string ClipQ = "encoder.layers.0.self_attn.q_proj.weight";
    private const string ClipFc1 = "encoder.layers.1.mlp.fc1.weight";

    private string _dir = null!;
    private StableDiffusionCheckpoint _ckpt = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint()
    {
        _dir = Directory.CreateTempSubdirectory("cg-lora-").FullName;
        string path = Path.Combine(_dir, "tiny.safetensors");
        TestCheckpoints.WriteSd15(path, seed: 3, TinySizes.Default.WithVocabSize(500));
        _ckpt = CheckpointLoader.Load(path);
    }

    [OneTimeTearDown]
    public void Dispose()
    {
        _ckpt.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [TearDown]
    public void RestoreWeights()
    {
        _ckpt.UnetPatcher.Restore();
        _ckpt.ClipPatcher.Restore();
    }

    public static IEnumerable<TestCaseData> Formats()
    {
        LoraEntry U(string key, string up, string down, string param, double? alpha = 8, bool mid = false, bool dora = false) =>
            new(key, up, down, LoraTarget.Unet, param, alpha, mid, dora);
        LoraEntry C(string key, string up, string down, string param) => new(key, up, down, LoraTarget.Clip, param);
        const string KUp = ".lora_up.weight", KDown = ".lora_down.weight";
        yield return new TestCaseData(LoraFormat.Kohya, new[]
        {
            U("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", KUp, KDown, Attn1Q),
            U("lora_unet_input_blocks_3_1_proj_in", KUp, KDown, ProjIn, alpha: null),
            U("lora_unet_input_blocks_1_0_in_layers_2", KUp, KDown, ResConv),
            C("lora_te_text_model_encoder_layers_0_self_attn_q_proj", KUp, KDown, ClipQ),
        }).SetName("kohya, LDM names");
        yield return new TestCaseData(LoraFormat.Kohya, new[]
        {
            U("lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", KUp, KDown, Attn2K),
            U("lora_unet_up_blocks_0_attentions_1_transformer_blocks_0_attn1_to_out_0", KUp, KDown, UpOut),
            U("lora_unet_down_blocks_1_attentions_0_proj_in", KUp, KDown, ProjIn),
            C("lora_te1_text_model_encoder_layers_1_mlp_fc1", KUp, KDown, ClipFc1),
        }).SetName("kohya, diffusers names");
        yield return new TestCaseData(LoraFormat.Peft, new[]
        {
            U("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.to_q", ".lora_B.weight", ".lora_A.weight", Attn1Q),
            U("up_blocks.0.attentions.1.transformer_blocks.0.attn1.to_out.0", ".lora_B.default.weight", ".lora_A.default.weight", UpOut, alpha: null),
            C("text_encoder.text_model.encoder.layers.1.mlp.fc1", ".lora_B.weight", ".lora_A.weight", ClipFc1),
        }).SetName("diffusers PEFT lora_A/lora_B");
        yield return new TestCaseData(LoraFormat.Diffusers, new[]
        {
            U("unet.down_blocks.0.attentions.0.transformer_blocks.0.attn1.processor.to_q", "_lora.up.weight", "_lora.down.weight", Attn1Q, alpha: null),
            U("down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_k", ".lora.up.weight", ".lora.down.weight", Attn2K),
            U("unet.up_blocks.0.attentions.1.transformer_blocks.0.attn1.processor.to_out", ".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight", UpOut),
            C("text_encoder.text_model.encoder.layers.0.self_attn.q_proj", ".lora_linear_layer.up.weight", ".lora_linear_layer.down.weight", ClipQ),
        }).SetName("diffusers attention processors, .lora.up, lora_linear_layer");
        yield return new TestCaseData(LoraFormat.LycorisLoCon, new[]
        {
            U("lora_unet_input_blocks_1_0_in_layers_2", KUp, KDown, ResConv, mid: true),
            U("lycoris_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", KUp, KDown, Attn1Q),
            U("diffusion_model.input_blocks.3.1.proj_in", KUp, KDown, ProjIn),
        }).SetName("LyCORIS LoCon with mid, lycoris_ and generic keys");
        yield return new TestCaseData(LoraFormat.Kohya, new[]
        {
            U("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", KUp, KDown, Attn1Q, dora: true),
        }).SetName("DoRA dora_scale");
    }

    [TestCaseSource(nameof(Formats))]
    public void PatchedWeightsEqualTheLowRankUpdate(LoraFormat format, LoraEntry[] entries)
    {
        const double Strength = 0.7;
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.safetensors");
        var written = LoraFixtures.Write(path, _ckpt, entries, seed: 100);
        var originals = entries.ToDictionary(e => e.Parameter, e => LoraFixtures.ParameterOf(_ckpt, e).Value.ToArray<float>());

        using var lora = LoraFile.Load(path);
        Assert.That(lora.Format, Is.EqualTo(format));
        using var patches = LoraMapper.Map(lora, "test.safetensors", _ckpt.Unet, _ckpt.Clip, "tiny.safetensors");
        Assert.That(patches.Unmatched, Is.Empty);
        Assert.That(patches.Patches.Select(p => p.ParameterName), Is.EquivalentTo(entries.Select(e => e.Parameter)));

        _ckpt.UnetPatcher.Apply([new WeightedLora(patches, Strength)]);
        _ckpt.ClipPatcher.Apply([new WeightedLora(patches, Strength)]);

        foreach (LoraEntry e in entries)
        {
            var p = LoraFixtures.ParameterOf(_ckpt, e);
            double[] expected = LoraFixtures.Expected(originals[e.Parameter], p.Shape, e, written, Strength);
            float[] actual = p.Value.ToArray<float>();
            double worst = expected.Zip(actual, (x, y) => Math.Abs(x - y)).Max();
            Assert.That(worst, Is.LessThan(1e-6), $"{e.Key} → {e.Parameter}");
            Assert.That(actual, Is.Not.EqualTo(originals[e.Parameter]), "the weight changed");
        }
    }

    [Test]
    public void SwitchingStacksRestoresTheOriginalsBitExactlyAndRepeatsAreFree()
    {
        var originals = AllWeights();
        using var a = MapNew([new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, Attn1Q)], 1);
        using var b = MapNew([new("lora_unet_input_blocks_1_0_in_layers_2", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, ResConv)], 2);

        _ckpt.UnetPatcher.Apply([new(a, 1.0), new(b, -0.5)]);
        Assert.That(_ckpt.UnetPatcher.PatchedCount, Is.EqualTo(2));
        int changes = _ckpt.UnetPatcher.Changes;
        _ckpt.UnetPatcher.Apply([new(a, 1.0), new(b, -0.5)]);
        Assert.That(_ckpt.UnetPatcher.Changes, Is.EqualTo(changes), "the same stack again patches nothing");

        _ckpt.UnetPatcher.Apply([new(b, 1.0)]);
        Assert.That(AllWeights()[Attn1Q], Is.EqualTo(originals[Attn1Q]), "a's weight is back when only b is active");
        _ckpt.UnetPatcher.Apply([]);
        Assert.That(_ckpt.UnetPatcher.PatchedCount, Is.Zero, "no backups are kept without a stack");
        var restored = AllWeights();
        foreach (var (name, values) in originals) Assert.That(restored[name], Is.EqualTo(values), name);
    }

    [Test]
    public void StackedLorasOnOneWeightAddUp()
    {
        LoraEntry e = new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, Attn1Q);
        float[] original = AllWeights()[Attn1Q];
        string pa = Path.Combine(_dir, "stack_a.safetensors"), pb = Path.Combine(_dir, "stack_b.safetensors");
        var wa = LoraFixtures.Write(pa, _ckpt, [e], 20);
        var wb = LoraFixtures.Write(pb, _ckpt, [e], 40);
        using var fa = LoraFile.Load(pa);
        using var fb = LoraFile.Load(pb);
        using var a = LoraMapper.Map(fa, "a", _ckpt.Unet, _ckpt.Clip, "tiny");
        using var b = LoraMapper.Map(fb, "b", _ckpt.Unet, _ckpt.Clip, "tiny");
        _ckpt.UnetPatcher.Apply([new(a, 0.8), new(b, -1.5)]);

        long[] shape = LoraFixtures.ParameterOf(_ckpt, e).Shape;
        double[] withA = LoraFixtures.Expected(original, shape, e, wa, 0.8);
        double[] deltaB = LoraFixtures.Expected(new float[original.Length], shape, e, wb, -1.5);
        float[] actual = AllWeights()[Attn1Q];
        Assert.That(actual.Select((v, i) => Math.Abs(v - (withA[i] + deltaB[i]))).Max(), Is.LessThan(1e-6));
    }

    [Test]
    public void PatchingAndRestoringLeavesNoTensorBehind()
    {
        _ckpt.UnetPatcher.Apply([]);
        long baseline = Tensor.LiveCount;
        using (var a = MapNew([new("lora_unet_input_blocks_1_0_in_layers_2", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, ResConv, Mid: true)], 11))
        {
            _ckpt.UnetPatcher.Apply([new(a, 1.0)]);
            using (var shared = a.Share()) _ckpt.UnetPatcher.Apply([new(shared, 0.5)]);
            _ckpt.UnetPatcher.Apply([]);
        }
        Assert.That(Tensor.LiveCount, Is.EqualTo(baseline));
    }

    [Test]
    public void StrengthZeroLeavesTheOutputBitIdentical()
    {
        using var a = MapNew([new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, Attn1Q),
            new("lora_unet_input_blocks_1_0_in_layers_2", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, ResConv)], 5);
        float[] plain = RunUnet();
        _ckpt.UnetPatcher.Apply([new(a, 0.0)]);
        Assert.That(RunUnet(), Is.EqualTo(plain));
        _ckpt.UnetPatcher.Apply([new(a, 1.0)]);
        Assert.That(RunUnet(), Is.Not.EqualTo(plain));
    }

    [Test]
    public void ALoraForAnotherFamilyIsRefusedNamingBoth()
    {
        string path = Path.Combine(_dir, "sdxl.safetensors");
        using (Torch.NewScope())
            Tensors.Safetensors.SafetensorsTensors.Save(path, [
                new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_up.weight", Torch.Zeros([32, 4])),
                new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight", Torch.Zeros([4, 2048])),
            ]);
        using var lora = LoraFile.Load(path);
        var e = Assert.Throws<LoraMismatchException>(() => LoraMapper.Map(lora, "sdxl_style.safetensors", _ckpt.Unet, _ckpt.Clip, "tiny.safetensors"));
        Assert.That(e!.Message, Does.Contain("sdxl_style.safetensors").And.Contain("tiny.safetensors").And.Contain("2048").And.Contain(Attn2K));
    }

    [Test]
    public void UnknownKeysAreReportedNotApplied()
    {
        string path = Path.Combine(_dir, "extra.safetensors");
        using (Torch.NewScope())
            LoraFixtures.Write(path, _ckpt, [new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn1_to_q", ".lora_up.weight", ".lora_down.weight", LoraTarget.Unet, Attn1Q)], 9,
                [new("lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight", Torch.Zeros([4, 4]))]);
        using var lora = LoraFile.Load(path);
        using var patches = LoraMapper.Map(lora, "extra", _ckpt.Unet, _ckpt.Clip, "tiny");
        Assert.That(patches.Patches, Has.Count.EqualTo(1));
        Assert.That(patches.Unmatched, Is.EqualTo(new[] { "lora_te2_text_model_encoder_layers_0_mlp_fc1.lora_up.weight" }));
    }

    private LoraPatches MapNew(LoraEntry[] entries, ulong seed)
    {
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.safetensors");
        LoraFixtures.Write(path, _ckpt, entries, seed);
        using var lora = LoraFile.Load(path);
        return LoraMapper.Map(lora, Path.GetFileName(path), _ckpt.Unet, _ckpt.Clip, "tiny");
    }

    private Dictionary<string, float[]> AllWeights() =>
        _ckpt.Unet!.NamedParameters().ToDictionary(p => p.Key, p => p.Value.Value.ToArray<float>());

    private float[] RunUnet()
    {
        using var scope = Torch.NewScope();
        Tensor context = Torch.Randn([1, 77, 32], 7);
        return _ckpt.Unet!.Forward(Torch.Randn([1, 4, 8, 8], 8), Torch.FromArray<float>([500f], [1]), context).ToArray<float>();
    }
}
