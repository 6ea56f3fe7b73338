using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Tensors.Tests;

/// <summary>Reads Fixtures/ops.safetensors, written by Fixtures/make_op_fixtures.py with PyTorch 1.13.</summary>
internal static class OpFixture
{
    private static readonly Lazy<SafetensorsFile> s_file =
        new(() => SafetensorsFile.Open(Path.Combine(TestContext.CurrentContext.TestDirectory, "Fixtures", "ops.safetensors")));

    public static SafetensorsFile File => s_file.Value;

    public static Tensor Get(string name) => File.LoadTensor(name);

    public static Tensor In(string @case, int index) => Get($"{@case}.in{index}");

    public static Tensor Out(string @case) => Get($"{@case}.out");
}
