using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.RandomWeights;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Nodes.Tests.Support;

/// <summary>Writes kohya-format LoRAs for a test checkpoint: every attention projection of the UNet and of CLIP.</summary>
internal static class TestLoras
{
    public static string Write(NodeTestEnvironment env, string name, ulong seed, double scale = 0.5,
        IEnumerable<KeyValuePair<string, Tensor>>? extra = null)
    {
        string path = Path.Combine(env.Models.Root, "loras", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        CheckpointConfig config = CheckpointLoader.ReadConfig(env.CheckpointPath(NodeTestEnvironment.Checkpoint))!;
        using var scope = Torch.NewScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        ulong s = seed;
        foreach (var (key, shape) in TestCheckpoints.Layout(config with { Vae = null }))
        {
            if (shape.Length != 2 || !(key.Contains(".attn", StringComparison.Ordinal) || key.Contains("self_attn", StringComparison.Ordinal))
                || !key.EndsWith(".weight", StringComparison.Ordinal)) continue;
            string module = key[..^".weight".Length];
            string lora = module.StartsWith(CheckpointLoader.UnetPrefix, StringComparison.Ordinal)
                ? "lora_unet_" + module[CheckpointLoader.UnetPrefix.Length..].Replace('.', '_')
                : "lora_te_text_model_" + module[CheckpointLoader.ClipPrefix.Length..].Replace('.', '_');
            tensors.Add(new(lora + ".lora_up.weight", Torch.Randn([shape[0], 4], s++) * scale));
            tensors.Add(new(lora + ".lora_down.weight", Torch.Randn([4, shape[1]], s++) * scale));
            tensors.Add(new(lora + ".alpha", Torch.Scalar(4.0)));
        }
        if (extra is not null) tensors.AddRange(extra);
        SafetensorsTensors.Save(path, tensors);
        return path;
    }
}
