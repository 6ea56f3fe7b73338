using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Checkpoints;

/// <summary>SDXL detection from names and shapes: the tiny fixture and the full-size key layout (no weights needed).</summary>
public sealed class SdxlDetectionTests
{
    private static readonly CheckpointConfig s_sdxl = new()
    {
        Family = "sdxl", Unet = UnetConfig.Sdxl, Clip = ClipTextConfig.ClipL, ClipG = ClipTextConfig.OpenClipBigG, Vae = VaeConfig.KlF8,
    };

    private static Dictionary<string, long[]> Shapes(CheckpointConfig config) =>
        TestCheckpoints.Layout(config).ToDictionary(e => e.Key, e => e.Shape);

    [Test]
    public void TheFixtureConfigIsDetectedFromNamesAndShapesAlone()
    {
        using var file = SafetensorsFile.Open(SdxlFixture.CheckpointPath);
        CheckpointConfig stored = CheckpointConfig.FromMetadata(file.Metadata)!;
        CheckpointConfig detected = CheckpointLoader.DetectConfig(file.Entries.ToDictionary(e => e.Name, e => e.Shape));
        Assert.That(detected, Is.EqualTo(stored), $"{detected.ToJson()}\nvs\n{stored.ToJson()}");
        Assert.That(stored.Unet!.AdmInChannels, Is.EqualTo(40 + 6 * 256));
    }

    [Test]
    public void FullSizeSdxlLayoutHasTheRealNamesAndShapes()
    {
        var shapes = Shapes(s_sdxl);
        Assert.That(ModelFamilyDetector.Detect(shapes.Keys), Is.EqualTo(ModelFamily.SDXLCheckpoint));
        // Shapes of the released sd_xl_base_1.0 checkpoint.
        Assert.That(shapes["model.diffusion_model.label_emb.0.0.weight"], Is.EqualTo(new long[] { 1280, 2816 }));
        Assert.That(shapes["model.diffusion_model.input_blocks.8.1.transformer_blocks.9.attn2.to_k.weight"], Is.EqualTo(new long[] { 1280, 2048 }));
        Assert.That(shapes["model.diffusion_model.middle_block.1.transformer_blocks.9.norm3.weight"], Is.EqualTo(new long[] { 1280 }));
        Assert.That(shapes["model.diffusion_model.output_blocks.6.0.skip_connection.weight"], Is.EqualTo(new long[] { 320, 960, 1, 1 }));
        Assert.That(shapes, Does.Not.ContainKey("model.diffusion_model.input_blocks.1.1.norm.weight"), "no attention at the first level");
        Assert.That(shapes["conditioner.embedders.0.transformer.text_model.encoder.layers.11.mlp.fc1.weight"], Is.EqualTo(new long[] { 3072, 768 }));
        Assert.That(shapes["conditioner.embedders.1.model.transformer.resblocks.31.attn.in_proj_weight"], Is.EqualTo(new long[] { 3840, 1280 }));
        Assert.That(shapes["conditioner.embedders.1.model.text_projection"], Is.EqualTo(new long[] { 1280, 1280 }));
        Assert.That(shapes["conditioner.embedders.1.model.positional_embedding"], Is.EqualTo(new long[] { 77, 1280 }));
        Assert.That(shapes.Keys.Count(k => k.StartsWith("model.diffusion_model.", StringComparison.Ordinal)), Is.EqualTo(1680));
        long unetParams = shapes.Where(e => e.Key.StartsWith("model.diffusion_model.", StringComparison.Ordinal))
            .Sum(e => e.Value.Aggregate(1L, (a, b) => a * b));
        Assert.That(unetParams, Is.EqualTo(2_567_463_684L));
    }

    [Test]
    public void FullSizeSdxlLayoutIsDetectedAsSdxl()
    {
        CheckpointConfig detected = CheckpointLoader.DetectConfig(Shapes(s_sdxl));
        Assert.That(detected, Is.EqualTo(s_sdxl), detected.ToJson());
        Assert.That(detected.ModelFamily, Is.EqualTo(ModelFamily.SDXLCheckpoint));
        Assert.That(detected.DefaultClipLayer, Is.EqualTo(-2));
    }

    [Test]
    public void SdxlVPredKeyMeansVPredictionAndZtsnrAZeroTerminalSnrSchedule()
    {
        var shapes = Shapes(TinySizes.SdxlConfig());
        Assert.That(CheckpointLoader.DetectConfig(shapes).Prediction, Is.EqualTo(PredictionType.Epsilon));
        shapes["ztsnr"] = [];
        Assert.That(CheckpointLoader.DetectConfig(shapes).ZeroTerminalSnr, Is.False, "ztsnr counts only with v_pred");
        shapes["v_pred"] = [];
        CheckpointConfig detected = CheckpointLoader.DetectConfig(shapes);
        Assert.That(detected.Prediction, Is.EqualTo(PredictionType.VPrediction));
        Assert.That(detected.ZeroTerminalSnr, Is.True);
        Assert.That(CheckpointConfig.FromJson(detected.ToJson()), Is.EqualTo(detected));
    }

    [Test]
    public void AnSdxlRefinerIsRefusedWithAClearMessage()
    {
        string path = Path.Combine(Path.GetTempPath(), $"refiner-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (CharacterGen.Tensors.Torch.NewScope())
                SafetensorsTensors.Save(path, [
                    new("model.diffusion_model.input_blocks.0.0.weight", CharacterGen.Tensors.Torch.Zeros([384, 4, 3, 3])),
                    new("conditioner.embedders.0.model.token_embedding.weight", CharacterGen.Tensors.Torch.Zeros([10, 8])),
                ], null);
            var e = Assert.Throws<CheckpointLoadException>(() => CheckpointLoader.Load(path).Dispose());
            Assert.That(e!.Message, Does.Contain("SDXL refiner"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Test]
    public void WrittenTinySdxlCheckpointRoundTripsThroughTheLoader()
    {
        string path = Path.Combine(Path.GetTempPath(), $"sdxl-{Guid.NewGuid():N}.safetensors");
        try
        {
            TestCheckpoints.WriteSdxl(path, seed: 3);
            Assert.That(CheckpointLoader.ReadConfig(path), Is.EqualTo(TinySizes.SdxlConfig()));
            using var file = SafetensorsFile.Open(path);
            Assert.That(CheckpointLoader.DetectConfig(file.Entries.ToDictionary(e => e.Name, e => e.Shape)), Is.EqualTo(TinySizes.SdxlConfig()));
            file.Dispose();
            using var checkpoint = CheckpointLoader.Load(path);
            Assert.That(checkpoint.ClipG!.TextProjection, Is.Not.Null);
            Assert.That(checkpoint.UnusedKeys, Is.Empty);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
