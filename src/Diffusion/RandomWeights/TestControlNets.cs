using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.RandomWeights;

/// <summary>
/// Writes ControlNet files in the real key layouts, for tests and demos: lllyasviel's LDM names with "control_model.",
/// the same without it, or diffusers ControlNetModel names. Random nets use <see cref="TestCheckpoints.Initialize"/>'s
/// weights (deterministic from the seed; the zero convolutions are random too, so the residuals are not zero).
/// </summary>
public static class TestControlNets
{
    /// <summary>A random-weight ControlNet for UNets of <paramref name="config"/> (e.g. <see cref="TinySizes.Unet"/>).</summary>
    public static void Write(string path, UnetConfig config, ControlNetKeyLayout layout = ControlNetKeyLayout.LdmPrefixed,
        ulong seed = 0, int hintChannels = 3, DType dtype = DType.Float32)
    {
        using var model = new ControlNetModel(config, hintChannels);
        TestCheckpoints.Initialize(model, seed);
        Write(path, model, layout, dtype);
    }

    /// <summary>A loaded net's weights in <paramref name="layout"/> (a layout conversion when read from another file).</summary>
    public static void Write(string path, ControlNetModel model, ControlNetKeyLayout layout, DType dtype = DType.Float32,
        IEnumerable<KeyValuePair<string, Tensor>>? extra = null)
    {
        Func<string, string> key = KeyFor(model, layout);
        using var scope = Torch.NewScope();
        var tensors = model.NamedParameters()
            .Select(p => new KeyValuePair<string, Tensor>(key(p.Key), p.Value.Value.To(Device.Cpu, dtype)))
            .Concat(extra ?? []).ToList();
        string? folder = Path.GetDirectoryName(Path.GetFullPath(path));
        if (folder is not null) Directory.CreateDirectory(folder);
        SafetensorsTensors.Save(path, tensors, new Dictionary<string, string> { ["charactergen.test_controlnet"] = layout.ToString() });
    }

    /// <summary>Our (LDM) parameter name → the file key in <paramref name="layout"/>.</summary>
    public static Func<string, string> KeyFor(ControlNetModel model, ControlNetKeyLayout layout) => layout switch
    {
        ControlNetKeyLayout.LdmPrefixed => name => ControlNetLayout.LdmPrefix + name,
        ControlNetKeyLayout.Ldm => name => name,
        _ => ControlNetDiffusersNames.ToDiffusers(model.Config, model.ResidualCount, _ => false),
    };
}
