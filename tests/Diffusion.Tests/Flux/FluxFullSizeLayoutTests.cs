using System.Text;
using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Flux;

namespace CharacterGen.Diffusion.Tests.Flux;

/// <summary>
/// A FLUX.1-dev-sized file (real BFL names and shapes from next-wave.md §C2, bf16, 23.8 GB) written as a header over
/// a sparse file: detection and the load plan are checked without materialising a weight.
/// </summary>
public sealed class FluxFullSizeLayoutTests
{
    private const long H = 3072, Mlp = 12288;

    [Test]
    public void DevLayoutIsDetectedAndWouldLoad()
    {
        var spec = DevSpec("");
        Assert.That(spec.Sum(s => s.Shape.Aggregate(1L, (a, b) => a * b)), Is.EqualTo(11_901_408_320L), "the table itself (§T)");
        string dir = Path.Combine(Path.GetTempPath(), "cg-flux-full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            string path = Path.Combine(dir, "flux1-dev.safetensors");
            long bytes = WriteSparse(path, spec);
            Assert.That(bytes, Is.EqualTo(2 * 11_901_408_320L));

            var (config, parameters) = FluxCheckpointLoader.CheckLayout(path);
            Assert.That(config, Is.EqualTo(FluxConfig.Dev with { AxesDim = config.AxesDim }));
            Assert.That(config.AxesDim, Is.EqualTo(new[] { 16, 56, 56 }));
            Assert.That(parameters, Is.EqualTo(11_901_408_320L));
            Assert.That(new FileInfo(path).Length, Is.GreaterThan(bytes), "apparent size (sparse)");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Test]
    public void SchnellInAnAllInOneFileAndAWrongShapeIsReported()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cg-flux-full-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        try
        {
            var schnell = DevSpec("model.diffusion_model.").Where(s => !s.Name.Contains("guidance_in", StringComparison.Ordinal)).ToList();
            string path = Path.Combine(dir, "flux1-schnell-aio.safetensors");
            WriteSparse(path, schnell);
            var (config, parameters) = FluxCheckpointLoader.CheckLayout(path);
            Assert.That(config.GuidanceEmbed, Is.False);
            Assert.That(parameters, Is.EqualTo(11_901_408_320L - (H * 256 + H + H * H + H)));

            var broken = DevSpec("").Select(s => s.Name == "single_blocks.7.linear2.weight" ? (s.Name, new long[] { H, 15000 }) : s).ToList();
            string brokenPath = Path.Combine(dir, "broken.safetensors");
            WriteSparse(brokenPath, broken);
            var ex = Assert.Throws<CheckpointLoadException>(() => FluxCheckpointLoader.CheckLayout(brokenPath));
            Assert.That(ex!.Mismatched.Single(), Does.StartWith("single_blocks.7.linear2.weight"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    // BFL names and shapes of FLUX.1-dev, spelled out from the reference table (bias beside every weight)
    private static List<(string Name, long[] Shape)> DevSpec(string prefix)
    {
        var s = new List<(string, long[])>();
        void Lin(string name, long outF, long inF)
        {
            s.Add((prefix + name + ".weight", [outF, inF]));
            s.Add((prefix + name + ".bias", [outF]));
        }
        Lin("img_in", H, 64);
        Lin("txt_in", H, 4096);
        foreach (string e in (string[])["time_in", "guidance_in"])
        {
            Lin(e + ".in_layer", H, 256);
            Lin(e + ".out_layer", H, H);
        }
        Lin("vector_in.in_layer", H, 768);
        Lin("vector_in.out_layer", H, H);
        for (int i = 0; i < 19; i++)
            foreach (string st in (string[])["img", "txt"])
            {
                string b = $"double_blocks.{i}.{st}";
                Lin(b + "_mod.lin", 6 * H, H);
                Lin(b + "_attn.qkv", 3 * H, H);
                s.Add((prefix + b + "_attn.norm.query_norm.scale", [128]));
                s.Add((prefix + b + "_attn.norm.key_norm.scale", [128]));
                Lin(b + "_attn.proj", H, H);
                Lin(b + "_mlp.0", Mlp, H);
                Lin(b + "_mlp.2", H, Mlp);
            }
        for (int i = 0; i < 38; i++)
        {
            string b = $"single_blocks.{i}.";
            Lin(b + "linear1", 3 * H + Mlp, H);
            Lin(b + "linear2", H, H + Mlp);
            s.Add((prefix + b + "norm.query_norm.scale", [128]));
            s.Add((prefix + b + "norm.key_norm.scale", [128]));
            Lin(b + "modulation.lin", 3 * H, H);
        }
        Lin("final_layer.adaLN_modulation.1", 2 * H, H);
        Lin("final_layer.linear", 64, H);
        return s;
    }

    /// <summary>A bf16 safetensors header for the spec, then the file extended (sparse) to its full data size.</summary>
    private static long WriteSparse(string path, IReadOnlyList<(string Name, long[] Shape)> spec)
    {
        var json = new StringBuilder("{");
        long offset = 0;
        foreach (var (name, shape) in spec)
        {
            long n = 2 * shape.Aggregate(1L, (a, b) => a * b);
            json.Append($"\"{name}\":{{\"dtype\":\"BF16\",\"shape\":[{string.Join(',', shape)}],\"data_offsets\":[{offset},{offset + n}]}},");
            offset += n;
        }
        json.Length--;
        json.Append('}');
        while ((json.Length + 8) % 8 != 0) json.Append(' ');
        byte[] header = Encoding.UTF8.GetBytes(json.ToString());
        using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
        file.Write(BitConverter.GetBytes((ulong)header.Length));
        file.Write(header);
        file.SetLength(8 + header.Length + offset);
        return offset;
    }
}
