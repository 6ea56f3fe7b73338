using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Checkpoints;

public sealed class ConfigDetectionTests
{
    private static Dictionary<string, long[]> Shapes(CheckpointConfig config) =>
        TestCheckpoints.Layout(config).ToDictionary(e => e.Key, e => e.Shape);

    [Test]
    public void TheFixtureConfigIsDetectedFromNamesAndShapesAlone()
    {
        using var file = SafetensorsFile.Open(ModelFixture.CheckpointPath);
        CheckpointConfig stored = CheckpointConfig.FromMetadata(file.Metadata)!;
        CheckpointConfig detected = CheckpointLoader.DetectConfig(file.Entries.ToDictionary(e => e.Name, e => e.Shape));
        Assert.That(detected, Is.EqualTo(stored), $"{detected.ToJson()}\nvs\n{stored.ToJson()}");
        Assert.That(stored.Unet!.TransformerDepth, Is.EqualTo(new[] { 1, 0 }), "the fixture has a level without attention");
    }

    [Test]
    public void FullSizeSd15LayoutIsDetectedAsSd15()
    {
        var sd15 = new CheckpointConfig { Family = "sd1", Unet = UnetConfig.Sd15, Clip = ClipTextConfig.ClipL, Vae = VaeConfig.KlF8 };
        CheckpointConfig detected = CheckpointLoader.DetectConfig(Shapes(sd15));
        Assert.That(detected, Is.EqualTo(sd15));
        Assert.That(detected.ModelFamily, Is.EqualTo(ModelFamily.SD1Checkpoint));
        Assert.That(detected.DefaultClipLayer, Is.EqualTo(-1));
    }

    [Test]
    public void FullSizeSd21LayoutIsDetectedAsSd2WithOpenClip()
    {
        var sd21 = new CheckpointConfig { Family = "sd2", Unet = UnetConfig.Sd21, Clip = ClipTextConfig.OpenClipH, Vae = VaeConfig.KlF8 };
        var shapes = Shapes(sd21);
        Assert.That(shapes, Does.ContainKey("cond_stage_model.model.transformer.resblocks.23.attn.in_proj_weight"));
        Assert.That(shapes["cond_stage_model.model.transformer.resblocks.0.attn.in_proj_weight"], Is.EqualTo(new long[] { 3072, 1024 }));
        CheckpointConfig detected = CheckpointLoader.DetectConfig(shapes);
        Assert.That(detected, Is.EqualTo(sd21));
        Assert.That(detected.DefaultClipLayer, Is.EqualTo(-2));
    }

    [Test]
    public void TinySd2StyleUnetIsDetected()
    {
        var unet = new UnetConfig
        {
            ModelChannels = 64, ChannelMult = [1, 2], NumResBlocks = 1, TransformerDepth = [1, 1], ContextDim = 1024,
            NumHeads = -1, NumHeadChannels = 64, UseLinearInTransformer = true,
        };
        UnetConfig detected = UnetConfig.Detect(Shapes(new CheckpointConfig { Family = "sd2", Unet = unet }));
        Assert.That(detected, Is.EqualTo(unet));
        Assert.That(detected.AttentionHeads(128), Is.EqualTo((2, 64)));
    }

    [Test]
    public void VPredKeyMeansVPrediction()
    {
        var shapes = Shapes(TinySizes.Default.ToConfig());
        Assert.That(CheckpointLoader.DetectConfig(shapes).Prediction, Is.EqualTo(PredictionType.Epsilon));
        shapes["v_pred"] = [];
        Assert.That(CheckpointLoader.DetectConfig(shapes).Prediction, Is.EqualTo(PredictionType.VPrediction));
    }

    [Test]
    public void ConfigSurvivesAJsonRoundTrip()
    {
        var config = TinySizes.Default.ToConfig(PredictionType.VPrediction) with { Family = "sd2" };
        string json = config.ToJson();
        Assert.That(json, Does.Contain("\"prediction\":\"v\"").And.Contain("\"channel_mult\":[1,2]").And.Contain("\"hidden_act\":\"quick_gelu\""));
        Assert.That(CheckpointConfig.FromJson(json), Is.EqualTo(config));
    }

    [Test]
    public void ClipHeadsFollowThe64WideConvention()
    {
        Assert.That(ClipTextConfig.HeadsFor(768), Is.EqualTo(12));
        Assert.That(ClipTextConfig.HeadsFor(1024), Is.EqualTo(16));
        Assert.That(ClipTextConfig.HeadsFor(1280), Is.EqualTo(20));
        Assert.That(ClipTextConfig.HeadsFor(32), Is.EqualTo(2));
    }
}
