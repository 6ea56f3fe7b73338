using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>A loaded ControlNet: the network and what its file says about how to apply it.</summary>
public sealed class LoadedControlNet(ControlNetModel model, ControlNetKeyLayout layout, string fileName, bool globalAveragePooling)
    : IDisposable
{
    public ControlNetModel Model { get; } = model;
    public ControlNetKeyLayout Layout { get; } = layout;
    public string FileName { get; } = fileName;

    /// <summary>Shuffle ControlNets: every residual is replaced by its spatial mean (ComfyUI global_average_pooling).</summary>
    public bool GlobalAveragePooling { get; } = globalAveragePooling;

    public void Dispose() => Model.Dispose();

    public override string ToString() => $"ControlNet({FileName}, {ControlNetLayout.Describe(Model.Config)})";
}

/// <summary>
/// Loads ControlNet safetensors files in the LDM layout (with or without "control_model.") or the diffusers layout
/// (ComfyUI comfy/controlnet.py load_controlnet): the encoder configuration is detected from names and shapes, the
/// network built from it and filled by walking names. A file name ending in "_shuffle" or "_shuffle_fp16" turns on
/// global average pooling. A "difference" ControlNet (a "difference" key; lllyasviel's diff nets) stores weights minus
/// the base UNet's: given <c>baseForDifference</c>, the UNet's weights of the same names are added back
/// (DiffControlNetLoader).
/// </summary>
public static class ControlNetLoader
{
    public static LoadedControlNet Load(string path, DType dtype = DType.Float32, Device device = default, UnetModel? baseForDifference = null)
    {
        string fileName = Path.GetFileName(path);
        using var file = SafetensorsFile.Open(path);
        var shapes = CheckpointLoader.Shapes(file);
        var (layout, prefix) = ControlNetLayout.Detect(shapes.Keys, fileName);

        UnetConfig config;
        try
        {
            config = layout == ControlNetKeyLayout.Diffusers ? ControlNetDiffusersNames.Detect(shapes) : UnetConfig.Detect(shapes, prefix);
        }
        catch (InvalidDataException e)
        {
            throw new CheckpointLoadException($"'{fileName}': cannot read the ControlNet's configuration: {e.Message}", e);
        }
        string hintKey = layout == ControlNetKeyLayout.Diffusers ? ControlNetDiffusersNames.MarkerKey : prefix + "input_hint_block.0.weight";
        int hintChannels = shapes.TryGetValue(hintKey, out long[]? hint) && hint.Length == 4 ? (int)hint[1]
            : throw new CheckpointLoadException($"'{fileName}' has no hint encoder ('{hintKey}')");

        var model = new ControlNetModel(config, hintChannels);
        try
        {
            var binder = new WeightBinder(file);
            if (layout == ControlNetKeyLayout.Diffusers)
            {
                Func<string, string> key = ControlNetDiffusersNames.ToDiffusers(config, model.ResidualCount, shapes.ContainsKey);
                binder.Add(model, name => new WeightRef(key(name)));
            }
            else binder.Add(model, prefix);
            binder.Load(dtype, device);
            if (baseForDifference is not null && shapes.ContainsKey("difference")) AddBase(model, baseForDifference);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        string stem = Path.GetFileNameWithoutExtension(path);
        bool pooling = stem.EndsWith("_shuffle", StringComparison.Ordinal) || stem.EndsWith("_shuffle_fp16", StringComparison.Ordinal);
        return new LoadedControlNet(model, layout, fileName, pooling);
    }

    // ComfyUI: for every control_model.X with a diffusion_model.X in the model, X += model's X.
    private static void AddBase(ControlNetModel model, UnetModel unet)
    {
        var baseParams = unet.NamedParameters().ToDictionary(p => p.Key, p => p.Value, StringComparer.Ordinal);
        foreach (var (name, p) in model.NamedParameters())
        {
            if (!baseParams.TryGetValue(name, out Parameter? b) || !b.IsSet || !b.Shape.AsSpan().SequenceEqual(p.Shape)) continue;
            using var scope = Torch.NewScope();
            Tensor v = p.Value;
            p.Set((v + b.Value.To(v.Device, v.DType)).MoveToOuterScope());
        }
    }
}
