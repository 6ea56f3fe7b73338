using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Diffusion.RandomWeights;

namespace CharacterGen.Diffusion.Tests.Lora;

/// <summary>SDXL LoRAs: kohya te1 (clip_l), te2 (clip_g) and UNet keys, LDM and diffusers names, on a tiny SDXL checkpoint.</summary>
public sealed class SdxlLoraTests
{
    private string _dir = null!;
    private StableDiffusionCheckpoint _ckpt = null!;

    [OneTimeSetUp]
    public void LoadCheckpoint()
    {
        _dir = Directory.CreateTempSubdirectory("cg-sdxl-lora-").FullName;
        string path = Path.Combine(_dir, "tiny_sdxl.safetensors");
        TestCheckpoints.WriteSdxl(path, seed: 5);
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
        _ckpt.ClipGPatcher.Restore();
    }

    public static IEnumerable<TestCaseData> Formats()
    {
        const string KUp = ".lora_up.weight", KDown = ".lora_down.weight";
        LoraEntry K(string key, LoraTarget target, string param) => new(key, KUp, KDown, target, param);
        // Tiny SDXL: levels [0, 2] deep, one res block, so level 1's attention is input_blocks.3.1 and up_blocks.0 is output_blocks.0–1.
        yield return new TestCaseData(LoraFormat.Kohya, new[]
        {
            K("lora_unet_input_blocks_3_1_transformer_blocks_1_attn2_to_k", LoraTarget.Unet, "input_blocks.3.1.transformer_blocks.1.attn2.to_k.weight"),
            K("lora_unet_down_blocks_1_attentions_0_transformer_blocks_1_attn1_to_q", LoraTarget.Unet, "input_blocks.3.1.transformer_blocks.1.attn1.to_q.weight"),
            K("lora_unet_mid_block_attentions_0_transformer_blocks_1_ff_net_2", LoraTarget.Unet, "middle_block.1.transformer_blocks.1.ff.net.2.weight"),
            K("lora_unet_up_blocks_0_attentions_1_proj_out", LoraTarget.Unet, "output_blocks.1.1.proj_out.weight"),
            K("lora_unet_up_blocks_0_upsamplers_0_conv", LoraTarget.Unet, "output_blocks.1.2.conv.weight"),
            K("lora_unet_add_embedding_linear_1", LoraTarget.Unet, "label_emb.0.0.weight"),
            K("lora_te1_text_model_encoder_layers_0_self_attn_q_proj", LoraTarget.Clip, "encoder.layers.0.self_attn.q_proj.weight"),
            K("lora_te2_text_model_encoder_layers_0_self_attn_k_proj", LoraTarget.ClipG, "encoder.layers.0.self_attn.k_proj.weight"),
            K("lora_te2_text_model_encoder_layers_1_mlp_fc1", LoraTarget.ClipG, "encoder.layers.1.mlp.fc1.weight"),
        }).SetName("kohya SDXL te1, te2, unet (LDM and diffusers names)");
        yield return new TestCaseData(LoraFormat.Peft, new LoraEntry[]
        {
            new("unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_v", ".lora_B.weight", ".lora_A.weight", LoraTarget.Unet,
                "input_blocks.3.1.transformer_blocks.0.attn2.to_v.weight"),
            new("text_encoder.text_model.encoder.layers.1.mlp.fc2", ".lora_B.weight", ".lora_A.weight", LoraTarget.Clip, "encoder.layers.1.mlp.fc2.weight"),
            new("text_encoder_2.text_model.encoder.layers.0.self_attn.out_proj", ".lora_B.weight", ".lora_A.weight", LoraTarget.ClipG,
                "encoder.layers.0.self_attn.out_proj.weight"),
        }).SetName("diffusers PEFT unet, text_encoder, text_encoder_2");
    }

    [TestCaseSource(nameof(Formats))]
    public void PatchedWeightsEqualTheLowRankUpdateAndRestoreExactly(LoraFormat format, LoraEntry[] entries)
    {
        const double Strength = 0.8;
        string path = Path.Combine(_dir, $"{Guid.NewGuid():N}.safetensors");
        var written = LoraFixtures.Write(path, _ckpt, entries, seed: 200);
        var originals = entries.ToDictionary(e => (e.Target, e.Parameter), e => LoraFixtures.ParameterOf(_ckpt, e).Value.ToArray<float>());

        using var lora = LoraFile.Load(path);
        Assert.That(lora.Format, Is.EqualTo(format));
        using var patches = LoraMapper.Map(lora, "sdxl.safetensors", _ckpt.Unet, _ckpt.Clip, "tiny_sdxl.safetensors", _ckpt.ClipG);
        Assert.That(patches.Unmatched, Is.Empty);
        Assert.That(patches.Patches.Select(p => (p.Target, p.ParameterName)), Is.EquivalentTo(entries.Select(e => (e.Target, e.Parameter))));

        WeightedLora[] stack = [new(patches, Strength)];
        _ckpt.UnetPatcher.Apply(stack);
        _ckpt.ClipPatcher.Apply(stack);
        _ckpt.ClipGPatcher.Apply(stack);
        foreach (LoraEntry e in entries)
        {
            var p = LoraFixtures.ParameterOf(_ckpt, e);
            double[] expected = LoraFixtures.Expected(originals[(e.Target, e.Parameter)], p.Shape, e, written, Strength);
            float[] actual = p.Value.ToArray<float>();
            Assert.That(expected.Zip(actual, (x, y) => Math.Abs(x - y)).Max(), Is.LessThan(1e-6), $"{e.Key} → {e.Target} {e.Parameter}");
        }

        _ckpt.UnetPatcher.Restore();
        _ckpt.ClipPatcher.Restore();
        _ckpt.ClipGPatcher.Restore();
        foreach (LoraEntry e in entries)
            Assert.That(LoraFixtures.ParameterOf(_ckpt, e).Value.ToArray<float>(), Is.EqualTo(originals[(e.Target, e.Parameter)]), $"{e.Parameter} restored");
    }

    [Test]
    public void Te2KeysNeedClipG()
    {
        var keys = LoraKeyMap.Build(_ckpt.Unet, _ckpt.Clip);
        Assert.That(keys.Keys.Where(k => k.StartsWith("lora_te2_", StringComparison.Ordinal)), Is.Empty);
        var all = LoraKeyMap.Build(_ckpt.Unet, _ckpt.Clip, _ckpt.ClipG);
        Assert.That(all["lora_te2_text_model_encoder_layers_1_self_attn_v_proj"], Is.EqualTo(new LoraKeyTarget(LoraTarget.ClipG, "encoder.layers.1.self_attn.v_proj.weight")));
        Assert.That(all["text_encoders.clip_g.transformer.text_projection"], Is.EqualTo(new LoraKeyTarget(LoraTarget.ClipG, "text_projection.weight")));
        Assert.That(all["lora_te_text_model_encoder_layers_0_mlp_fc1"].Target, Is.EqualTo(LoraTarget.Clip), "lora_te_ is clip_l when clip_l is present");
    }
}
