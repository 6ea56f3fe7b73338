using System.Collections.Concurrent;
using System.Text.Json;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Models;

/// <summary>
/// Rebuilds a fixture checkpoint from its recipe (Fixtures/*.weights.json, written by the make_*_fixtures.py scripts):
/// the same seed, draw order and scaling as their random_weights, stored float16. Our Generator draws torch.randn's
/// numbers, so the file equals the one the PyTorch reference ran on, and no model weights live in git.
/// </summary>
internal static class FixtureCheckpoint
{
    private static readonly ConcurrentDictionary<string, Lazy<string>> s_built = new();

    /// <summary>The rebuilt checkpoint for <paramref name="recipe"/> (once per test run, in a temp folder).</summary>
    public static string Path(string recipe) =>
        s_built.GetOrAdd(recipe, r => new Lazy<string>(() => Build(r))).Value;

    private static string Build(string recipe)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(System.IO.Path.Combine(ModelFixture.Directory, recipe)));
        JsonElement root = json.RootElement;
        var metadata = root.GetProperty("metadata").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString()!);
        string dir = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "cg-fixtures-" + Environment.ProcessId);
        Directory.CreateDirectory(dir);
        string path = System.IO.Path.Combine(dir, recipe.Replace(".weights.json", ".safetensors", StringComparison.Ordinal));

        using var scope = Torch.NewScope();
        using var generator = new Generator(root.GetProperty("seed").GetUInt64());
        var tensors = new List<KeyValuePair<string, Tensor>>();
        foreach (JsonElement entry in root.GetProperty("weights").EnumerateArray())
        {
            string name = entry[0].GetString()!;
            long[] shape = entry[1].EnumerateArray().Select(d => d.GetInt64()).ToArray();
            tensors.Add(new(name, Scaled(name, shape, Torch.Randn(shape, generator)).To(DType.Float16)));
        }
        SafetensorsTensors.Save(path, tensors, metadata);
        return path;
    }

    // make_model_fixtures.py random_weights: small biases, norms near 1, embeddings × 0.5, the rest / √fan-in.
    private static Tensor Scaled(string name, long[] shape, Tensor t) =>
        name.EndsWith(".bias", StringComparison.Ordinal) ? t * 0.1
        : shape.Length == 1 ? t * 0.1 + 1
        : name.Contains("embedding", StringComparison.Ordinal) ? t * 0.5
        : t / Math.Sqrt(shape.Skip(1).Aggregate(1L, (a, b) => a * b));
}
