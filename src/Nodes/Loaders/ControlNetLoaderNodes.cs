using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Nodes.Loaders;

/// <summary>
/// ControlNetLoader and DiffControlNetLoader (ComfyUI nodes.py): CONTROL_NET handles to nets from models/controlnet
/// (and models/t2i_adapter, whose files are refused by layout). Plain nets are shared through the
/// <see cref="ModelCache"/>; a "difference" net is rebuilt against the given model and held by its value alone.
/// </summary>
internal static class ControlNetLoaderNodes
{
    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [ControlNetLoader(folders), DiffControlNetLoader(folders)];

    private static NodeDefinition ControlNetLoader(NodeFolders folders) => new NodeBuilder("ControlNetLoader")
        .DisplayName("Load ControlNet Model").Category("loaders")
        .Required(ModelCombo.Of("control_net_name", "controlnet", folders.Models))
        .Output(IoTypes.ControlNet)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(Load(ctx, folders, i.Get<string>("control_net_name"), null)))
        .Build();

    private static NodeDefinition DiffControlNetLoader(NodeFolders folders) => new NodeBuilder("DiffControlNetLoader")
        .DisplayName("Load ControlNet Model (diff)").Category("loaders")
        .Required(InputSpec.Link("model", IoTypes.Model))
        .Required(ModelCombo.Of("control_net_name", "controlnet", folders.Models))
        .Output(IoTypes.ControlNet)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(Load(ctx, folders, i.Get<string>("control_net_name"), i.Value<ModelValue>("model"))))
        .Build();

    private static ControlNetValue Load(NodeContext ctx, NodeFolders folders, string name, ModelValue? model)
    {
        var cache = ctx.GetRequiredService<ModelCache>();
        string path = folders.Models.Resolve("controlnet", name);
        if (model is null || !IsDifference(path)) return new ControlNetValue(cache.ControlNet(path));

        // The base weights this model value samples with (its LoRA stack applied), as ComfyUI's model_state_dict.
        LoadedControlNet net = Diffusion.Models.ControlNet.ControlNetLoader.Load(path, cache.Options.EffectiveWeightDType, cache.Options.Device, model.PatchedUnet());
        return new ControlNetValue(ModelLease<LoadedControlNet>.Sole(net, path));
    }

    private static bool IsDifference(string path)
    {
        using var file = SafetensorsFile.Open(path);
        return file.Contains("difference");
    }
}
