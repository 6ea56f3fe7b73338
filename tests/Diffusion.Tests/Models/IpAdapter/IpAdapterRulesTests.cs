using CharacterGen.Diffusion.Models.IpAdapter;
using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Tests.Models.IpAdapter;

/// <summary>Layer layout, weight types and file detection on the real SD1.5/SDXL shapes (no weights are read).</summary>
public sealed class IpAdapterRulesTests
{
    [Test]
    public void Sd15LayoutFollowsCubiqsOrder()
    {
        using var unet = new UnetModel(UnetConfig.Sd15);
        var layout = new IpAdapterLayout(unet);
        Assert.That((layout.Layers, layout.CrossAttentionLayers, layout.IsSdxl), Is.EqualTo((16, 16, false)));
        // input 1,2,4,5,7,8 → layers 0–5 (t 0–5); output 3..11 → 6–14 (t 7–15); middle → 15 (t 6).
        Assert.That(layout[new AttentionSite(UnetStage.Input, 8, 0)], Is.EqualTo(new IpAdapterSite(new(UnetStage.Input, 8, 0), 5, 5, 1280)));
        Assert.That(layout[new AttentionSite(UnetStage.Output, 3, 0)].LayerIndex, Is.EqualTo(6));
        Assert.That(layout[new AttentionSite(UnetStage.Output, 3, 0)].TransformerIndex, Is.EqualTo(7));
        Assert.That(layout[new AttentionSite(UnetStage.Output, 11, 0)].Channels, Is.EqualTo(320));
        Assert.That(layout[new AttentionSite(UnetStage.Middle, 0, 0)], Is.EqualTo(new IpAdapterSite(new(UnetStage.Middle, 0, 0), 6, 15, 1280)));
    }

    [Test]
    public void SdxlLayoutFollowsCubiqsOrder()
    {
        using var unet = new UnetModel(UnetConfig.Sdxl);
        var layout = new IpAdapterLayout(unet);
        Assert.That((layout.Layers, layout.CrossAttentionLayers, layout.IsSdxl), Is.EqualTo((11, 70, true)));
        Assert.That(layout[new AttentionSite(UnetStage.Input, 4, 0)].LayerIndex, Is.EqualTo(0));
        Assert.That(layout[new AttentionSite(UnetStage.Input, 4, 0)].Channels, Is.EqualTo(640)); // 1.to_k_ip is [640, 2048]
        Assert.That(layout[new AttentionSite(UnetStage.Input, 8, 9)].LayerIndex, Is.EqualTo(23));
        Assert.That(layout[new AttentionSite(UnetStage.Output, 0, 0)], Is.EqualTo(new IpAdapterSite(new(UnetStage.Output, 0, 0), 5, 24, 1280)));
        Assert.That(layout[new AttentionSite(UnetStage.Output, 5, 1)].LayerIndex, Is.EqualTo(59));
        Assert.That(layout[new AttentionSite(UnetStage.Middle, 0, 9)], Is.EqualTo(new IpAdapterSite(new(UnetStage.Middle, 0, 9), 4, 69, 1280)));
    }

    [Test]
    public void EaseInMatchesTheReferenceVectors()
    {
        // reference/next-wave.md §T: L 16: 1.0, 0.9406, 0.8812, …, 0.1094; L 11: 1.0, 0.9136, …, 0.1364.
        var w = new IpAdapterWeighting("ease in", 1.0, isSdxl: false);
        Assert.That(w.At(0, 16, UnetStage.Input, out _), Is.EqualTo(1.0).Within(1e-4));
        Assert.That(w.At(1, 16, UnetStage.Input, out _), Is.EqualTo(0.9406).Within(1e-4));
        Assert.That(w.At(2, 16, UnetStage.Input, out _), Is.EqualTo(0.8812).Within(1e-4));
        Assert.That(w.At(15, 16, UnetStage.Output, out _), Is.EqualTo(0.1094).Within(1e-4));
        double[] l11 = [1.0, 0.9136, 0.8273, 0.7409, 0.6545, 0.5682, 0.4818, 0.3955, 0.3091, 0.2227, 0.1364];
        for (int t = 0; t < 11; t++) Assert.That(w.At(t, 11, UnetStage.Input, out _), Is.EqualTo(l11[t]).Within(1e-4), $"t {t}");
    }

    [Test]
    public void TableTypesPickTheirLayers()
    {
        var sdxlStyle = new IpAdapterWeighting("style transfer", 0.4, isSdxl: true);
        Assert.That(Enumerable.Range(0, 11).Where(t => sdxlStyle.At(t, 11, UnetStage.Output, out _) is not null), Is.EqualTo(new[] { 6 }));
        var sdComposition = new IpAdapterWeighting("composition", 1.0, isSdxl: false);
        Assert.That(sdComposition.At(4, 16, UnetStage.Input, out _), Is.EqualTo(0.25));
        Assert.That(sdComposition.At(5, 16, UnetStage.Input, out _), Is.EqualTo(1.0));
        Assert.That(sdComposition.At(6, 16, UnetStage.Middle, out _), Is.Null);
        var precise = new IpAdapterWeighting("style transfer precise", 1.0, isSdxl: true, compositionWeight: 0.5);
        Assert.That(precise.At(3, 11, UnetStage.Input, out bool swap), Is.EqualTo(0.5));
        Assert.That(swap, Is.True, "style transfer precise swaps cond and uncond at the composition layer");
        Assert.That(precise.At(6, 11, UnetStage.Output, out swap), Is.EqualTo(1.0));
        Assert.That(swap, Is.False);
        var weakMiddle = new IpAdapterWeighting("weak input", 1.0, isSdxl: false);
        Assert.That((weakMiddle.At(0, 16, UnetStage.Input, out _), weakMiddle.At(9, 16, UnetStage.Output, out _)), Is.EqualTo((0.2, 1.0)));
        Assert.Throws<ArgumentException>(() => new IpAdapterWeighting("sideways", 1, false));
    }

    private static Dictionary<string, long[]> Layers(int count, int ctx)
    {
        var d = new Dictionary<string, long[]>();
        for (int i = 0; i < count; i++)
        {
            d[$"ip_adapter.{2 * i + 1}.to_k_ip.weight"] = [320, ctx];
            d[$"ip_adapter.{2 * i + 1}.to_v_ip.weight"] = [320, ctx];
        }
        return d;
    }

    [TestCase("ip-adapter_sd15.safetensors", 768, 16, new[] { "proj.weight", "norm.weight" }, false, IpAdapterKind.Base)]
    [TestCase("ip-adapter-plus_sdxl_vit-h.safetensors", 2048, 70, new[] { "latents", "proj_in.weight" }, false, IpAdapterKind.Plus)]
    [TestCase("ip-adapter-full-face_sd15.safetensors", 768, 16, new[] { "proj.0.weight", "proj.2.weight", "proj.3.weight" }, false, IpAdapterKind.FullFace)]
    [TestCase("ip-adapter-faceid_sd15.bin.safetensors", 768, 16, new[] { "proj.0.weight", "proj.2.weight", "norm.weight" }, true, IpAdapterKind.FaceId)]
    [TestCase("ip-adapter-faceid-portrait_sd15.safetensors", 768, 16, new[] { "proj.0.weight", "proj.2.weight", "norm.weight" }, false, IpAdapterKind.FaceIdPortrait)]
    [TestCase("ip-adapter-faceid-plus_sd15.safetensors", 768, 16, new[] { "proj.0.weight", "proj.2.weight", "perceiver_resampler.proj_in.weight" }, true, IpAdapterKind.FaceIdPlus)]
    [TestCase("ip-adapter-faceid-plusv2_sdxl.safetensors", 2048, 70, new[] { "proj.0.weight", "proj.2.weight", "perceiver_resampler.proj_in.weight" }, true, IpAdapterKind.FaceIdPlusV2)]
    public void VariantsAreDetectedFromKeysAndName(string file, int ctx, int layers, string[] proj, bool lora, IpAdapterKind kind)
    {
        var shapes = Layers(layers, ctx);
        foreach (string p in proj) shapes["image_proj." + p] = [1];
        if (lora) shapes["ip_adapter.0.to_q_lora.down.weight"] = [128, 320];
        IpAdapterInfo info = IpAdapterInfo.Detect(shapes, file);
        Assert.That((info.Kind, info.ContextDim, info.Layers), Is.EqualTo((kind, ctx, layers)));
        Assert.That(info.Family, Is.EqualTo(ctx == 768 ? "SD1.5" : "SDXL"));
    }
}
