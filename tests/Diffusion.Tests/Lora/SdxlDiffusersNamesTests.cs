using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.Models.Unet;

namespace CharacterGen.Diffusion.Tests.Lora;

/// <summary>The full-size SDXL UNet layout (3 levels, depths [0, 2, 10], middle 10) in diffusers names, without building it.</summary>
public sealed class SdxlDiffusersNamesTests
{
    [TestCase("down_blocks.1.attentions.0.transformer_blocks.1.attn2.to_k", "input_blocks.4.1.transformer_blocks.1.attn2.to_k")]
    [TestCase("down_blocks.2.attentions.1.transformer_blocks.9.attn1.to_q", "input_blocks.8.1.transformer_blocks.9.attn1.to_q")]
    [TestCase("down_blocks.1.downsamplers.0.conv", "input_blocks.6.0.op")]
    [TestCase("mid_block.attentions.0.transformer_blocks.9.ff.net.2", "middle_block.1.transformer_blocks.9.ff.net.2")]
    [TestCase("mid_block.resnets.1.conv1", "middle_block.2.in_layers.2")]
    [TestCase("up_blocks.0.attentions.2.transformer_blocks.9.attn2.to_out.0", "output_blocks.2.1.transformer_blocks.9.attn2.to_out.0")]
    [TestCase("up_blocks.0.upsamplers.0.conv", "output_blocks.2.2.conv")]
    [TestCase("up_blocks.1.attentions.0.proj_in", "output_blocks.3.1.proj_in")]
    [TestCase("up_blocks.2.resnets.2.conv_shortcut", "output_blocks.8.0.skip_connection")]
    [TestCase("add_embedding.linear_2", "label_emb.0.2")]
    public void Maps(string diffusers, string ldm) =>
        Assert.That(UnetDiffusersNames.Modules(UnetConfig.Sdxl)[diffusers], Is.EqualTo(ldm));

    [Test]
    public void LevelZeroHasNoAttention() =>
        Assert.That(UnetDiffusersNames.Modules(UnetConfig.Sdxl).Keys.Where(k => k.StartsWith("down_blocks.0.attentions", StringComparison.Ordinal)), Is.Empty);
}
