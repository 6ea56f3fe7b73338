using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Tests.Models.IpAdapter;

/// <summary>The CLIP image tower and ComfyUI's preprocessing against the PyTorch reference.</summary>
public sealed class ClipVisionTests
{
    [Test]
    public void PreprocessingMatchesComfyUiWithAndWithoutCrop()
    {
        using var scope = Torch.NewScope();
        Tensor image = IpAdapterFixture.Io("vision.image");
        TensorCompare.Close(ClipVisionPreprocess.Apply(image, 28), IpAdapterFixture.Io("vision.pixels"), 1e-5, "center crop");
        TensorCompare.Close(ClipVisionPreprocess.Apply(image, 28, crop: false), IpAdapterFixture.Io("vision.pixels_nocrop"), 1e-5, "none");
    }

    [Test]
    public void OutputsMatchTheReference()
    {
        using var scope = Torch.NewScope();
        using ClipVisionModel model = ClipVisionLoader.Load(IpAdapterFixture.ClipVisionPath);
        Assert.That(model.Config.ImageSize, Is.EqualTo(28));
        Assert.That(model.Config.Positions, Is.EqualTo(5));
        using ClipVisionOutput o = model.Forward(IpAdapterFixture.Io("vision.pixels"));
        TensorCompare.Close(o.LastHiddenState, IpAdapterFixture.Io("vision.last"), what: "last_hidden_state");
        TensorCompare.Close(o.PenultimateHiddenStates, IpAdapterFixture.Io("vision.penultimate"), what: "penultimate_hidden_states");
        TensorCompare.Close(o.ImageEmbeds, IpAdapterFixture.Io("vision.embeds"), what: "image_embeds");
    }

    [TestCase(48, 1664, 257, "ViT-bigG/14", "gelu")]
    [TestCase(32, 1280, 257, "ViT-H/14", "gelu")]
    [TestCase(24, 1024, 257, "ViT-L/14", "quick_gelu")]
    [TestCase(24, 1024, 577, "ViT-L/14-336", "quick_gelu")]
    public void RealTowersAreDetectedFromKeys(int layers, int width, int positions, string family, string act)
    {
        var shapes = new Dictionary<string, long[]>
        {
            ["vision_model.embeddings.patch_embedding.weight"] = [width, 3, 14, 14],
            ["vision_model.embeddings.position_embedding.weight"] = [positions, width],
            ["vision_model.encoder.layers.0.mlp.fc1.weight"] = [width * 4, width],
            ["visual_projection.weight"] = [1024, width],
        };
        for (int i = 0; i < layers; i++) shapes[$"vision_model.encoder.layers.{i}.layer_norm1.weight"] = [width];
        ClipVisionConfig c = ClipVisionConfig.Detect(shapes);
        Assert.That((c.Family, c.HiddenAct, c.NumAttentionHeads, c.Positions), Is.EqualTo((family, act, 16, positions)));
    }

    [Test]
    public void ACheckpointIsRefusedNamingWhatItIs()
    {
        var e = Assert.Throws<CheckpointLoadException>(() => ClipVisionLoader.Load(ModelFixture.CheckpointPath))!;
        Assert.That(e.Message, Does.Contain("not a CLIP vision model").And.Contain("Stable Diffusion 1.x checkpoint"));
    }
}
