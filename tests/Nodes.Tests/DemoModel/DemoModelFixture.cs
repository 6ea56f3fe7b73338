using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.DemoModel;

/// <summary>
/// The demo model, built once per test run and shared: a models folder in the temp directory named by the recipe hash,
/// so a later run on the same machine (or a CI cache of it) reuses the file, and a changed recipe builds a new one.
/// </summary>
internal static class DemoModelFixture
{
    public const ulong Seed = 0;

    private static readonly Lazy<DemoModelFiles> s_files = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The models folder holding checkpoints/demo-shapes.safetensors and its tokenizer.</summary>
    public static string ModelsFolder => Path.Combine(Path.GetTempPath(), "charactergen-demo-model", DemoModelRecipe.Default.Hash(Seed));

    public static DemoModelFiles Files => s_files.Value;

    private static DemoModelFiles Build()
    {
        int threads = Torch.Threads;
        // As the CLI: every core unless CHARACTERGEN_THREADS says otherwise.
        Torch.Threads = int.TryParse(Environment.GetEnvironmentVariable("CHARACTERGEN_THREADS"), out int n) && n > 0 ? n : Environment.ProcessorCount;
        try
        {
            DemoModelFiles files = DemoModelBuilder.Build(ModelsFolder, Seed, log: line => TestContext.Progress.WriteLine("demo model: " + line));
            TestContext.Progress.WriteLine($"demo model: {(files.Cached ? "cached" : "built")} in {files.Elapsed.TotalSeconds:F0} s at {files.Checkpoint}");
            return files;
        }
        finally
        {
            Torch.Threads = threads;
        }
    }
}
