using CharacterGen.Tensors;

namespace CharacterGen.Tensors.Tests;

/// <summary>Runs once for the assembly: libtorch's thread count is set the way the server sets it.</summary>
[SetUpFixture]
public sealed class TorchTestSetup
{
    [OneTimeSetUp]
    public void SetThreads() => Torch.Threads = Environment.ProcessorCount;
}
