using CharacterGen.Tensors;

namespace CharacterGen.Server.Cli;

/// <summary>Process-wide libtorch settings, applied once before tensor work.</summary>
public static class TorchSetup
{
    /// <summary>
    /// libtorch defaults to one intra-op thread when embedded; use every core unless CHARACTERGEN_THREADS says otherwise.
    /// </summary>
    public static void ConfigureThreads()
    {
        string? configured = Environment.GetEnvironmentVariable("CHARACTERGEN_THREADS");
        Torch.Threads = int.TryParse(configured, out int n) && n > 0 ? n : Environment.ProcessorCount;
    }
}
