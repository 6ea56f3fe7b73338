using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Models.IpAdapter;

/// <summary>
/// The tiny CLIP vision tower and IP-Adapters (base, plus) of Fixtures/make_ipadapter_fixtures.py, rebuilt from their
/// recipes, and its PyTorch reference tensors.
/// </summary>
internal static class IpAdapterFixture
{
    public static string ClipVisionPath => FixtureCheckpoint.Path("clip_vision_tiny.weights.json");

    public static string BasePath => FixtureCheckpoint.Path("ipadapter_base_tiny.weights.json");

    public static string PlusPath => FixtureCheckpoint.Path("ipadapter_plus_tiny.weights.json");

    public static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(Path.Combine(ModelFixture.Directory, "ipadapter_tiny_io.safetensors"));
        return file.LoadTensor(name);
    }
}
