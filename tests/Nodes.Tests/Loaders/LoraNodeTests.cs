using CharacterGen.Diffusion.Lora;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.Loaders;

/// <summary>LoraLoader and LoraLoaderModelOnly called directly: patch stacks on the values, restore, reports, refusals.</summary>
public sealed class LoraNodeTests
{
    private NodeTestEnvironment _env = null!;
    private NodeOutput _loaded = null!;

    [OneTimeSetUp]
    public void SetUp()
    {
        _env = NodeTestEnvironment.Create();
        _loaded = _env.LoadCheckpoint();
        using (Torch.NewScope())
            TestLoras.Write(_env, "style.safetensors", seed: 1, extra: [new("lora_te2_text_model_encoder_layers_0_mlp_fc1.alpha", Torch.Scalar(1.0))]);
    }

    [OneTimeTearDown]
    public void TearDown()
    {
        NodeTestEnvironment.DisposeAll(_loaded);
        _env.Dispose();
    }

    private float[] Encode(object clip)
    {
        using var cond = _env.Run<ConditioningValue>("CLIPTextEncode", ("text", "a photo of a cat"), ("clip", clip));
        return cond.Entries[0].Cond.ToArray<float>();
    }

    [Test]
    public void TheClipOutputEncodesDifferentlyAndThePlainClipGetsItsOriginalsBack()
    {
        float[] plain = Encode(_loaded.Values[1]!);
        NodeOutput lora = _env.Run("LoraLoader", ("model", _loaded.Values[0]), ("clip", _loaded.Values[1]), ("lora_name", "style.safetensors"),
            ("strength_model", 1.0), ("strength_clip", 1.0));
        try
        {
            var model = (ModelValue)lora.Values[0]!;
            var clip = (ClipValue)lora.Values[1]!;
            Assert.That(model.Loras, Has.Count.EqualTo(1));
            Assert.That(model.Loras[0].Lora.Patches.All(p => p.Target == LoraTarget.Unet), Is.True);
            Assert.That(clip.Loras[0].Lora.Patches, Is.Not.Empty);
            Assert.That(clip.Loras[0].Lora.Patches.All(p => p.Target == LoraTarget.Clip), Is.True);

            var info = (Dictionary<string, object?>)((List<object?>)lora.Ui!["lora"]!)[0]!;
            Assert.That(info["unmatched_keys"], Is.EqualTo(1));
            Assert.That((List<string>)info["first_unmatched"]!, Is.EqualTo(new[] { "lora_te2_text_model_encoder_layers_0_mlp_fc1.alpha" }));

            Assert.That(Encode(clip), Is.Not.EqualTo(plain));
            Assert.That(Encode(_loaded.Values[1]!), Is.EqualTo(plain), "the plain CLIP restores the shared weights bit-exactly");
        }
        finally
        {
            NodeTestEnvironment.DisposeAll(lora);
        }
    }

    [Test]
    public void StrengthZeroAddsNoStackAndModelOnlyPatchesOnlyTheUnet()
    {
        NodeOutput zero = _env.Run("LoraLoader", ("model", _loaded.Values[0]), ("clip", _loaded.Values[1]), ("lora_name", "style.safetensors"),
            ("strength_model", 0.0), ("strength_clip", 0.0));
        NodeOutput modelOnly = _env.Run("LoraLoaderModelOnly", ("model", _loaded.Values[0]), ("lora_name", "style.safetensors"), ("strength_model", 0.5));
        try
        {
            Assert.That(((ModelValue)zero.Values[0]!).Loras, Is.Empty);
            Assert.That(((ClipValue)zero.Values[1]!).Loras, Is.Empty);
            Assert.That(modelOnly.Values, Has.Count.EqualTo(1));
            var model = (ModelValue)modelOnly.Values[0]!;
            Assert.That(model.Loras.Single().Strength, Is.EqualTo(0.5));
            var info = (Dictionary<string, object?>)((List<object?>)modelOnly.Ui!["lora"]!)[0]!;
            Assert.That((int)info["unmatched_keys"]! > 1, Is.True, "the CLIP keys are not loaded without a CLIP");
        }
        finally
        {
            NodeTestEnvironment.DisposeAll(zero, modelOnly);
        }
    }

    [Test]
    public void ALoraForAnotherFamilyFailsNamingTheLoraAndTheCheckpoint()
    {
        using (Torch.NewScope())
            Tensors.Safetensors.SafetensorsTensors.Save(Path.Combine(_env.Models.Root, "loras", "xl.safetensors"), [
                new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_up.weight", Torch.Zeros([32, 4])),
                new("lora_unet_input_blocks_1_1_transformer_blocks_0_attn2_to_k.lora_down.weight", Torch.Zeros([4, 2048])),
            ]);
        var e = Assert.Throws<LoraMismatchException>(() => _env.Run("LoraLoaderModelOnly", ("model", _loaded.Values[0]),
            ("lora_name", "xl.safetensors"), ("strength_model", 1.0)));
        Assert.That(e!.Message, Does.Contain("xl.safetensors").And.Contain(NodeTestEnvironment.Checkpoint));
    }
}
