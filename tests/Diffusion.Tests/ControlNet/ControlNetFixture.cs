using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Tests.Models;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.ControlNet;

/// <summary>
/// The tiny ControlNets and reference tensors written by Fixtures/make_controlnet_fixtures.py (plain PyTorch): one per
/// family ("sd15", "sdxl"), each for the UNet of the matching fixture checkpoint, in lllyasviel's LDM layout.
/// </summary>
internal static class ControlNetFixture
{
    public const double Strength = 0.8;

    public static string Path(string family) => FixtureCheckpoint.Path($"controlnet_{family}_tiny.weights.json");

    public static string BaseCheckpoint(string family) => family == "sd15" ? ModelFixture.CheckpointPath : SdxlFixture.CheckpointPath;

    public static Tensor Io(string name)
    {
        using var file = SafetensorsFile.Open(System.IO.Path.Combine(ModelFixture.Directory, "controlnet_tiny_io.safetensors"));
        return file.LoadTensor(name);
    }

    public static Tensor? Y(string family) => family == "sdxl" ? Io("sdxl.y") : null;

    /// <summary>One batched call of the fixture's inputs, every row at <paramref name="sigma"/>, from one entry holding <paramref name="chain"/>.</summary>
    public static UnetBatch Batch(string family, ControlChain? chain, double sigma = 1.0, int chunks = 1)
    {
        Tensor x = Io($"{family}.x"), context = Io($"{family}.context");
        var entry = new ConditioningEntry(context, null, Control: chain);
        return new UnetBatch(x, Io($"{family}.t"), context, Y(family), Torch.Full([x.Size(0)], sigma, DType.Float32, Device.Cpu),
            Enumerable.Repeat(entry, chunks).ToList(), Enumerable.Range(0, chunks).ToList(), x.Size(0) / chunks);
    }
}
