using CharacterGen.Diffusion.Lora;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;

namespace CharacterGen.Nodes.Loaders;

/// <summary>
/// LoraLoader and LoraLoaderModelOnly (ComfyUI nodes.py / sd.load_lora_for_models): the LoRA is resolved against the
/// model's networks here, and the returned MODEL/CLIP carry its patches; the shared weights change only when a
/// sampler or text encoder runs them. Keys that address nothing are reported in the ui output and on stderr.
/// </summary>
internal static class LoraNodes
{
    private const int ReportedNames = 10;

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [LoraLoader(folders), LoraLoaderModelOnly(folders)];

    private static InputSpec Strength(string name, string tooltip) =>
        InputSpec.Float(name, 1.0, -100.0, 100.0, 0.01) with { Tooltip = tooltip };

    private static NodeDefinition LoraLoader(NodeFolders folders) => new NodeBuilder("LoraLoader")
        .DisplayName("Load LoRA").Category("loaders")
        .Description("LoRAs are used to modify diffusion and CLIP models, altering the way in which latents are denoised such as applying styles. Multiple LoRA nodes can be linked together.")
        .Required(InputSpec.Link("model", IoTypes.Model) with { Tooltip = "The diffusion model the LoRA will be applied to." })
        .Required(InputSpec.Link("clip", IoTypes.Clip) with { Tooltip = "The CLIP model the LoRA will be applied to." })
        .Required(ModelCombo.Of("lora_name", "loras", folders.Models) with { Tooltip = "The name of the LoRA." })
        .Required(Strength("strength_model", "How strongly to modify the diffusion model. This value can be negative."))
        .Required(Strength("strength_clip", "How strongly to modify the CLIP model. This value can be negative."))
        .Output(IoTypes.Model).Output(IoTypes.Clip)
        .ExecuteTensors((ctx, i) => Apply(folders, i.Value<ModelValue>("model"), i.Value<ClipValue>("clip"), i.Get<string>("lora_name"),
            i.Get<double>("strength_model"), i.Get<double>("strength_clip")))
        .Build();

    private static NodeDefinition LoraLoaderModelOnly(NodeFolders folders) => new NodeBuilder("LoraLoaderModelOnly")
        .DisplayName("LoraLoaderModelOnly").Category("loaders")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(ModelCombo.Of("lora_name", "loras", folders.Models))
        .Required(InputSpec.Float("strength_model", 1.0, -100.0, 100.0, 0.01))
        .Output(IoTypes.Model)
        .ExecuteTensors((ctx, i) => Apply(folders, i.Value<ModelValue>("model"), null, i.Get<string>("lora_name"), i.Get<double>("strength_model"), 0))
        .Build();

    private static NodeOutput Apply(NodeFolders folders, ModelValue model, ClipValue? clip, string loraName, double strengthModel, double strengthClip)
    {
        var (outModel, outClip, info) = Patch(folders, model, clip, loraName, strengthModel, strengthClip);
        if (info is null) return clip is null ? NodeOutput.Of(outModel) : NodeOutput.Of(outModel, outClip);
        var ui = new Dictionary<string, object?> { ["lora"] = new List<object?> { info } };
        return clip is null ? NodeOutput.WithUi(ui, outModel) : NodeOutput.WithUi(ui, outModel, outClip);
    }

    /// <summary>
    /// New MODEL/CLIP values carrying the LoRA's patches (the inputs stay the caller's), and the ui report (null when
    /// nothing was loaded). LoraLoader and model aliases both apply LoRAs through here.
    /// </summary>
    internal static (ModelValue Model, ClipValue? Clip, Dictionary<string, object?>? Info) Patch(NodeFolders folders, ModelValue model,
        ClipValue? clip, string loraName, double strengthModel, double strengthClip)
    {
        // As ComfyUI: both strengths 0 returns the inputs untouched (new handles, same stacks).
        if (strengthModel == 0 && strengthClip == 0) return (model.Share(), clip?.Share(), null);

        string path = folders.Models.Resolve("loras", loraName);
        using LoraFile file = LoraFile.Load(path);
        using LoraPatches patches = LoraMapper.Map(file, loraName, model.Unet, clip?.Model, Path.GetFileName(model.Path), clip?.ModelG);
        Report(loraName, patches.Unmatched);
        var info = new Dictionary<string, object?>
        {
            ["name"] = loraName,
            ["format"] = file.Format.ToString(),
            ["patched"] = patches.Patches.Count,
            ["unmatched_keys"] = patches.Unmatched.Count,
            ["first_unmatched"] = patches.Unmatched.Take(ReportedNames).ToList(),
        };
        ModelValue outModel = model.WithLora(patches.Only(LoraTarget.Unet), strengthModel);
        if (clip is null) return (outModel, null, info);
        try { return (outModel, clip.WithLora(patches.Only(LoraTarget.Clip, LoraTarget.ClipG), strengthClip), info); }
        catch
        {
            outModel.Dispose();
            throw;
        }
    }

    // ComfyUI logs "lora key not loaded" per key; one line with the count and the first names is easier to read.
    private static void Report(string loraName, IReadOnlyList<string> unmatched)
    {
        if (unmatched.Count == 0) return;
        Console.Error.WriteLine($"LoRA '{loraName}': {unmatched.Count} key(s) not loaded, first: {string.Join(", ", unmatched.Take(ReportedNames))}");
    }
}
