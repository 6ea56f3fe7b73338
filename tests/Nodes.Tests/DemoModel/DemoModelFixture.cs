using CharacterGen.Diffusion.DemoModel;
using CharacterGen.Nodes.Tests.Support;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Tests.DemoModel;

/// <summary>
/// The demo model, built once per test run and shared: a models folder in the temp directory, so a later run on the same
/// machine (or a CI cache of it) reuses the file.
/// </summary>
internal static class DemoModelFixture
{
    public const ulong Seed = 0;

    private static readonly Lazy<DemoModelFiles> s_files = new(Build, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>
    /// The models folder holding checkpoints/demo-shapes.safetensors and its tokenizer: CHARACTERGEN_DEMO_MODELS when set
    /// (scripts/test.sh builds the model there before the tests start), else one in the temp directory. The builder's
    /// stamp retrains a changed recipe, and its stage cache keeps the VAE when only the UNet stage changed.
    /// </summary>
    public static string ModelsFolder =>
        Environment.GetEnvironmentVariable("CHARACTERGEN_DEMO_MODELS") is { Length: > 0 } configured
            ? Path.GetFullPath(configured)
            : Path.Combine(Path.GetTempPath(), "charactergen-demo-model", $"seed-{Seed}");

    public static DemoModelFiles Files => s_files.Value;

    /// <summary>Copies the built model (checkpoint and tokenizer) into a test environment's checkpoints folder.</summary>
    public static void InstallInto(NodeTestEnvironment env)
    {
        DemoModelFiles files = Files;
        string checkpoint = env.CheckpointPath(DemoModelBuilder.CheckpointName);
        Directory.CreateDirectory(Path.GetDirectoryName(checkpoint)!);
        File.Copy(files.Checkpoint, checkpoint, overwrite: true);
        string tokenizer = Path.Combine(Path.GetDirectoryName(checkpoint)!, Path.GetFileName(files.TokenizerFolder));
        Directory.CreateDirectory(tokenizer);
        foreach (string file in Directory.GetFiles(files.TokenizerFolder))
            File.Copy(file, Path.Combine(tokenizer, Path.GetFileName(file)), overwrite: true);
    }

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
