using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Flux;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>
/// A diffusers-layout copy of the tiny FLUX file, written here from next-wave.md §C2's table (split qkv/linear1,
/// "weight" for QK scales, norm_out with (scale, shift) halves), loads to the same network as the BFL file.
/// </summary>
public sealed class FluxDiffusersLayoutTests
{
    [Test]
    public void DiffusersFileGivesTheReferenceOutput()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cg-flux-diffusers-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            using var scope = Torch.NewScope();
            string path = Path.Combine(dir, "diffusion_pytorch_model.safetensors");
            var written = ToDiffusers(FixtureCheckpoint.Path("flux_tiny.weights.json"));
            SafetensorsTensors.Save(path, written, new Dictionary<string, string>());
            Assert.That(written.Any(t => t.Key.StartsWith("double_blocks.", StringComparison.Ordinal)), Is.False);
            Assert.That(ModelFamilyDetector.Detect(written.Select(t => t.Key)), Is.EqualTo(ModelFamily.FluxDiffusionModel));

            FluxConfig config = FluxCheckpointLoader.DetectConfig(path);
            Assert.That((config.Hidden, config.Heads, config.DoubleBlocks, config.SingleBlocks, config.GuidanceEmbed), Is.EqualTo((256, 2, 2, 2, true)));
            using FluxModel model = FluxCheckpointLoader.Load(path);
            using var io = SafetensorsFile.Open(Path.Combine(ModelFixture.Directory, "flux_tiny_io.safetensors"));
            Tensor output = model.Forward(io.LoadTensor("flux.x"), io.LoadTensor("flux.t"), io.LoadTensor("flux.context"),
                io.LoadTensor("flux.y"), io.LoadTensor("flux.guidance"));
            TensorCompare.Close(output, io.LoadTensor("flux.out"), 1e-4, "diffusers layout");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void UnknownDiffusersKeysAreNotMapped()
    {
        Assert.That(FluxDiffusersLayout.Map("transformer_blocks.3.attn.to_q.weight"), Is.EqualTo(("double_blocks.3.img_attn.qkv.weight", 0)));
        Assert.That(FluxDiffusersLayout.Map("single_transformer_blocks.0.proj_mlp.bias"), Is.EqualTo(("single_blocks.0.linear1.bias", 3)));
        Assert.That(FluxDiffusersLayout.Map("single_transformer_blocks.0.attn.norm_k.weight"), Is.EqualTo(("single_blocks.0.norm.key_norm.scale", 0)));
        Assert.That(FluxDiffusersLayout.Map("pos_embed.something"), Is.Null);
    }

    // The inverse of the loader's conversion, spelled out from the reference table.
    private static List<KeyValuePair<string, Tensor>> ToDiffusers(string bflPath)
    {
        using var file = SafetensorsFile.Open(bflPath);
        var result = new List<KeyValuePair<string, Tensor>>();
        void Put(string name, Tensor t) => result.Add(new(name, t.Contiguous()));
        foreach (SafetensorsEntry e in file.Entries)
        {
            string n = e.Name;
            Tensor t = file.LoadTensor(n);
            string suffix = n[(n.LastIndexOf('.') + 1)..];
            string[] p = n.Split('.');
            if (p[0] == "double_blocks")
            {
                string at = $"transformer_blocks.{p[1]}.";
                string rest = string.Join('.', p[2..^1]);
                bool img = rest.StartsWith("img", StringComparison.Ordinal);
                switch (rest[4..])
                {
                    case "attn.qkv":
                        Tensor[] qkv = t.Chunk(3, 0);
                        string[] names = img ? ["attn.to_q", "attn.to_k", "attn.to_v"] : ["attn.add_q_proj", "attn.add_k_proj", "attn.add_v_proj"];
                        for (int i = 0; i < 3; i++) Put($"{at}{names[i]}.{suffix}", qkv[i]);
                        break;
                    case "mod.lin": Put($"{at}{(img ? "norm1" : "norm1_context")}.linear.{suffix}", t); break;
                    case "attn.norm.query_norm": Put($"{at}attn.{(img ? "norm_q" : "norm_added_q")}.weight", t); break;
                    case "attn.norm.key_norm": Put($"{at}attn.{(img ? "norm_k" : "norm_added_k")}.weight", t); break;
                    case "attn.proj": Put($"{at}{(img ? "attn.to_out.0" : "attn.to_add_out")}.{suffix}", t); break;
                    case "mlp.0": Put($"{at}{(img ? "ff" : "ff_context")}.net.0.proj.{suffix}", t); break;
                    case "mlp.2": Put($"{at}{(img ? "ff" : "ff_context")}.net.2.{suffix}", t); break;
                    default: throw new InvalidDataException(n);
                }
            }
            else if (p[0] == "single_blocks")
            {
                string at = $"single_transformer_blocks.{p[1]}.";
                switch (string.Join('.', p[2..^1]))
                {
                    case "linear1":
                        Tensor[] parts = t.Split([256, 256, 256, 512], 0);
                        string[] names = ["attn.to_q", "attn.to_k", "attn.to_v", "proj_mlp"];
                        for (int i = 0; i < 4; i++) Put($"{at}{names[i]}.{suffix}", parts[i]);
                        break;
                    case "linear2": Put($"{at}proj_out.{suffix}", t); break;
                    case "modulation.lin": Put($"{at}norm.linear.{suffix}", t); break;
                    case "norm.query_norm": Put($"{at}attn.norm_q.weight", t); break;
                    case "norm.key_norm": Put($"{at}attn.norm_k.weight", t); break;
                    default: throw new InvalidDataException(n);
                }
            }
            else
            {
                string stem = n[..n.LastIndexOf('.')];
                if (stem == "final_layer.adaLN_modulation.1")
                {
                    Tensor[] halves = t.Chunk(2, 0);
                    Put($"norm_out.linear.{suffix}", Torch.Cat([halves[1], halves[0]], 0));
                    continue;
                }
                string d = stem switch
                {
                    "img_in" => "x_embedder",
                    "txt_in" => "context_embedder",
                    "time_in.in_layer" => "time_text_embed.timestep_embedder.linear_1",
                    "time_in.out_layer" => "time_text_embed.timestep_embedder.linear_2",
                    "guidance_in.in_layer" => "time_text_embed.guidance_embedder.linear_1",
                    "guidance_in.out_layer" => "time_text_embed.guidance_embedder.linear_2",
                    "vector_in.in_layer" => "time_text_embed.text_embedder.linear_1",
                    "vector_in.out_layer" => "time_text_embed.text_embedder.linear_2",
                    "final_layer.linear" => "proj_out",
                    _ => throw new InvalidDataException(n),
                };
                Put($"{d}.{suffix}", t);
            }
        }
        return result;
    }
}
