using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.ControlNet;

/// <summary>ControlNet residuals and the UNet output with them against the PyTorch reference; the three key layouts.</summary>
public sealed class ControlNetReferenceTests
{
    private string _dir = null!;

    [OneTimeSetUp]
    public void CreateFolder() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "cg-controlnet-" + Guid.NewGuid().ToString("N")));

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private static (Tensor[] Skips, Tensor Middle) Run(LoadedControlNet net, string family) =>
        net.Model.Forward(ControlNetFixture.Io($"{family}.x"), ControlNetFixture.Io($"{family}.hint"), ControlNetFixture.Io($"{family}.t"),
            ControlNetFixture.Io($"{family}.context"), ControlNetFixture.Y(family));

    [TestCase("sd15")]
    [TestCase("sdxl")]
    public void Residuals_match_pytorch(string family)
    {
        using var net = ControlNetLoader.Load(ControlNetFixture.Path(family));
        Assert.That(net.Layout, Is.EqualTo(ControlNetKeyLayout.LdmPrefixed));
        Assert.That(ControlNetLayout.FamilyName(net.Model.Config), Is.EqualTo(family == "sd15" ? "SD1.x" : "SDXL"));
        using var scope = Torch.NewScope();
        var (skips, middle) = Run(net, family);
        Assert.That(skips, Has.Length.EqualTo(4));
        for (int i = 0; i < skips.Length; i++) TensorCompare.Close(skips[i], ControlNetFixture.Io($"{family}.residual.{i}"), what: $"residual {i}");
        TensorCompare.Close(middle, ControlNetFixture.Io($"{family}.residual.middle"), what: "middle residual");
    }

    [TestCase("sd15")]
    [TestCase("sdxl")]
    public void The_unet_with_the_contributed_residuals_matches_pytorch(string family)
    {
        using var checkpoint = CheckpointLoader.Load(ControlNetFixture.BaseCheckpoint(family), parts: CheckpointParts.Unet);
        UnetModel unet = checkpoint.Unet!;
        using var net = ControlNetLoader.Load(ControlNetFixture.Path(family));
        using var scope = Torch.NewScope();
        using var chain = new ControlChain(net, null, ControlNetFixture.Io($"{family}.hint"), ControlNetFixture.Strength, 0, 1, null);
        UnetBatch batch = ControlNetFixture.Batch(family, chain);
        var builder = new UnetCallBuilder();
        new ControlNetContributor(unet.Config, DiscreteModelSampling.Eps()).Contribute(batch, builder);
        UnetCall call = builder.Build(batch) ?? throw new AssertionException("the ControlNet contributed nothing");

        TensorCompare.Close(unet.Forward(batch.Input, batch.Timesteps, batch.Context, batch.Y), ControlNetFixture.Io($"{family}.unet"), what: "plain UNet");
        TensorCompare.Close(unet.Forward(batch.Input, batch.Timesteps, batch.Context, batch.Y, call),
            ControlNetFixture.Io($"{family}.unet_controlled"), what: "UNet with residuals × 0.8");
    }

    [TestCase(ControlNetKeyLayout.Ldm)]
    [TestCase(ControlNetKeyLayout.Diffusers)]
    public void Other_layouts_of_the_same_weights_give_identical_residuals(ControlNetKeyLayout layout)
    {
        foreach (string family in new[] { "sd15", "sdxl" })
        {
            string path = Path.Combine(_dir, $"{family}-{layout}.safetensors");
            using var reference = ControlNetLoader.Load(ControlNetFixture.Path(family));
            TestControlNets.Write(path, reference.Model, layout, DType.Float16);
            using var converted = ControlNetLoader.Load(path);
            Assert.That(converted.Layout, Is.EqualTo(layout));
            Assert.That(converted.Model.Config, Is.EqualTo(reference.Model.Config), family);
            using var scope = Torch.NewScope();
            var (a, am) = Run(reference, family);
            var (b, bm) = Run(converted, family);
            for (int i = 0; i < a.Length; i++) Assert.That(b[i].ToArray<float>(), Is.EqualTo(a[i].ToArray<float>()), $"{family} residual {i}");
            Assert.That(bm.ToArray<float>(), Is.EqualTo(am.ToArray<float>()), $"{family} middle");
        }
    }

    [Test]
    public void The_diffusers_file_uses_diffusers_names()
    {
        string path = Path.Combine(_dir, "names-diffusers.safetensors");
        using (var net = ControlNetLoader.Load(ControlNetFixture.Path("sdxl"))) TestControlNets.Write(path, net.Model, ControlNetKeyLayout.Diffusers);
        using var file = SafetensorsFile.Open(path);
        string[] names = [.. file.Entries.Select(e => e.Name)];
        Assert.That(names, Is.SupersetOf(new[]
        {
            "controlnet_cond_embedding.conv_in.weight", "controlnet_cond_embedding.blocks.5.weight", "controlnet_cond_embedding.conv_out.bias",
            "controlnet_down_blocks.0.weight", "controlnet_down_blocks.3.bias", "controlnet_mid_block.weight", "conv_in.weight",
            "time_embedding.linear_1.weight", "add_embedding.linear_2.bias", "down_blocks.0.resnets.0.conv1.weight",
            "down_blocks.0.downsamplers.0.conv.weight", "down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k.weight",
            "mid_block.attentions.0.proj_in.weight", "mid_block.resnets.1.conv2.weight",
        }));
        Assert.That(names.Where(n => n.Contains("input_blocks") || n.Contains("zero_convs") || n.Contains("hint")), Is.Empty);
    }

    [Test]
    public void A_shuffle_file_name_turns_on_global_average_pooling()
    {
        string path = Path.Combine(_dir, "control_v11e_sd15_shuffle.safetensors");
        File.Copy(ControlNetFixture.Path("sd15"), path, overwrite: true);
        using var shuffle = ControlNetLoader.Load(path);
        using var plain = ControlNetLoader.Load(ControlNetFixture.Path("sd15"));
        Assert.That((shuffle.GlobalAveragePooling, plain.GlobalAveragePooling), Is.EqualTo((true, false)));
        using var scope = Torch.NewScope();
        using var chain = new ControlChain(shuffle, null, ControlNetFixture.Io("sd15.hint"), 1.0, 0, 1, null);
        ControlResiduals r = chain.Residuals(ControlNetFixture.Batch("sd15", chain), DiscreteModelSampling.Eps())!;
        Tensor expected = ControlNetFixture.Io("sd15.residual.2").Mean([2, 3], keepDim: true);
        Assert.That(r.Skips[2]!.Shape, Is.EqualTo(new long[] { 2, 32, 4, 3 }));
        TensorCompare.Close(r.Skips[2]!.Narrow(2, 1, 1).Narrow(3, 2, 1), expected, what: "pooled residual");
    }
}
