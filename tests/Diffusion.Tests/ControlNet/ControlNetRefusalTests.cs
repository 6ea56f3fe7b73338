using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.ControlNet;

/// <summary>Files that are not a ControlNet CharacterGen runs are refused with what was expected and what the file is.</summary>
public sealed class ControlNetRefusalTests
{
    private string _dir = null!;

    [OneTimeSetUp]
    public void CreateFolder() => Directory.CreateDirectory(_dir = Path.Combine(Path.GetTempPath(), "cg-cn-refuse-" + Guid.NewGuid().ToString("N")));

    [OneTimeTearDown]
    public void DeleteFolder() => Directory.Delete(_dir, recursive: true);

    private string Write(string name, params string[] keys)
    {
        string path = Path.Combine(_dir, name);
        using var scope = Torch.NewScope();
        SafetensorsTensors.Save(path, keys.Select(k => new KeyValuePair<string, Tensor>(k, Torch.Zeros([2, 2]))));
        return path;
    }

    private static string Refusal(string path) => Assert.Throws<CheckpointLoadException>(() => ControlNetLoader.Load(path))!.Message;

    [Test]
    public void An_sd_checkpoint_is_refused_naming_both_families()
    {
        string message = Refusal(ModelFixture.CheckpointPath);
        Assert.That(message, Does.Contain(ControlNetLayout.Expected).And.Contain("Stable Diffusion 1.x checkpoint"));
    }

    [TestCase("lora.safetensors", "LoRA", "lora_unet_input_blocks_1_1_proj_in.lora_down.weight", "lora_unet_input_blocks_1_1_proj_in.lora_up.weight")]
    [TestCase("control-lora.safetensors", "Stability Control-LoRA", "lora_controlnet", "input_hint_block.0.weight")]
    [TestCase("t2i.safetensors", "T2I-Adapter", "body.0.in_conv.weight", "body.0.out_conv.weight")]
    [TestCase("ip-adapter.safetensors", "IP-Adapter", "image_proj.proj.weight", "ip_adapter.1.to_k_ip.weight")]
    [TestCase("flux-cn.safetensors", "FLUX ControlNet (XLabs)", "controlnet_blocks.0.weight", "double_blocks.0.img_attn.norm.key_norm.scale")]
    [TestCase("sd3-cn.safetensors", "SD3/SD3.5 ControlNet", "controlnet_blocks.0.weight", "pos_embed_input.proj.weight")]
    [TestCase("union.safetensors", "ControlNet-Union", "controlnet_cond_embedding.conv_in.weight", "control_add_embedding.linear_1.bias")]
    [TestCase("vae.safetensors", "VAE", "encoder.conv_in.weight", "decoder.conv_out.weight")]
    public void Other_kinds_are_refused_naming_what_they_look_like(string name, string looksLike, string key1, string key2)
    {
        string message = Refusal(Write(name, key1, key2));
        Assert.That(message, Does.Contain(name).And.Contain(ControlNetLayout.Expected).And.Contain(looksLike));
    }
}
