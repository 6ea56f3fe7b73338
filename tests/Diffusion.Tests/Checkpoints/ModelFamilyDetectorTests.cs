using CharacterGen.Diffusion.Checkpoints;

namespace CharacterGen.Diffusion.Tests.Checkpoints;

public sealed class ModelFamilyDetectorTests
{
    [TestCase(ModelFamily.SD1Checkpoint, "model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.transformer.text_model.embeddings.token_embedding.weight", "first_stage_model.decoder.conv_out.weight")]
    [TestCase(ModelFamily.SD2Checkpoint, "model.diffusion_model.input_blocks.0.0.weight", "cond_stage_model.model.token_embedding.weight")]
    [TestCase(ModelFamily.SDXLCheckpoint, "model.diffusion_model.input_blocks.0.0.weight", "conditioner.embedders.0.transformer.text_model.final_layer_norm.weight", "conditioner.embedders.1.model.ln_final.weight")]
    [TestCase(ModelFamily.FluxDiffusionModel, "double_blocks.0.img_attn.qkv.weight", "single_blocks.0.linear1.weight")]
    [TestCase(ModelFamily.Vae, "encoder.conv_in.weight", "decoder.conv_out.weight")]
    [TestCase(ModelFamily.Lora, "lora_unet_down_blocks_0_attentions_0_proj_in.lora_down.weight")]
    [TestCase(ModelFamily.Lora, "unet.down_blocks.0.attentions.0.proj_in.lora_A.weight")]
    [TestCase(ModelFamily.TextEncoder, "text_model.encoder.layers.0.mlp.fc1.weight")]
    [TestCase(ModelFamily.Unknown, "conv.weight", "linear.bias")]
    public void DetectsTheFamilyFromTensorNames(ModelFamily expected, params string[] names) =>
        Assert.That(ModelFamilyDetector.Detect(names), Is.EqualTo(expected));
}
