using CharacterGen.Diffusion.Models.ClipVision;
using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Loaders;
using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.IpAdapter;

/// <summary>CLIPVisionLoader and CLIPVisionEncode (ComfyUI nodes.py): CLIP image encoders from models/clip_vision.</summary>
internal static class ClipVisionNodes
{
    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) => [Loader(folders), Encode()];

    private static NodeDefinition Loader(NodeFolders folders) => new NodeBuilder("CLIPVisionLoader")
        .DisplayName("Load CLIP Vision").Category("loaders")
        .Required(ModelCombo.Of("clip_name", "clip_vision", folders.Models))
        .Output(IoTypes.ClipVision)
        .ExecuteTensors((ctx, i) => NodeOutput.Of(Load(ctx, folders, i.Get<string>("clip_name"))))
        .Build();

    private static NodeDefinition Encode() => new NodeBuilder("CLIPVisionEncode")
        .DisplayName("CLIP Vision Encode").Category("conditioning")
        .Required(InputSpec.Link("clip_vision", IoTypes.ClipVision))
        .Required(InputSpec.Link("image", IoTypes.Image))
        .Required(InputSpec.Combo("crop", ["center", "none"]))
        .Output(IoTypes.ClipVisionOutput)
        .ExecuteTensors((_, i) =>
        {
            ClipVisionModel model = i.Value<ClipVisionValue>("clip_vision").Model;
            Tensor pixels = ClipVisionPreprocess.Apply(i.Value<Tensor>("image"), model.Config.ImageSize, i.Get<string>("crop") == "center");
            return NodeOutput.Of(new ClipVisionOutputValue(model.Forward(pixels)));
        })
        .Build();

    internal static ClipVisionValue Load(NodeContext ctx, NodeFolders folders, string name) =>
        new(ctx.GetRequiredService<ModelCache>().ClipVision(folders.Models.Resolve("clip_vision", name)));
}
