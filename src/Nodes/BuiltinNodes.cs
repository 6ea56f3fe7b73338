using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Conditioning;
using CharacterGen.Nodes.Depth;
using CharacterGen.Nodes.Faces;
using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.Image;
using CharacterGen.Nodes.IpAdapter;
using CharacterGen.Nodes.Latent;
using CharacterGen.Nodes.Loaders;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Sampling;
using CharacterGen.Nodes.Training;

namespace CharacterGen.Nodes;

/// <summary>
/// The production node catalogue: every node class CharacterGen ships, composed from the node groups in this project.
/// The server, the `run` CLI and the ComfyUI API all take their nodes from here. Nodes that list or touch files use
/// the folders given here; nodes that load weights need a <see cref="ModelCaching.ModelCache"/> among the engine's services.
/// </summary>
public static class BuiltinNodes
{
    /// <param name="aliases">Model aliases offered by the checkpoint loaders; none when null.</param>
    public static NodeCatalog Catalog(ModelFolders models, DataFolders data, ModelCaching.ModelAliases? aliases = null) =>
        new(Definitions(new NodeFolders(models, data, aliases)));

    public static IEnumerable<NodeDefinition> Definitions(NodeFolders folders) =>
    [
        .. LoaderNodes.Definitions(folders),
        .. LoraNodes.Definitions(folders),
        .. TextEncodeNodes.Definitions(),
        .. ConditioningNodes.Definitions(),
        .. ControlNetLoaderNodes.Definitions(folders),
        .. ControlNetApplyNodes.Definitions(),
        .. LatentNodes.Definitions(),
        .. VaeNodes.Definitions(),
        .. KSamplerNodes.Definitions(),
        .. CustomSamplerNodes.Definitions(),
        .. LoadImageNodes.Definitions(folders),
        .. ImageScaleNodes.Definitions(),
        .. SaveImageNodes.Definitions(folders),
        .. DatasetNodes.Definitions(folders),
        .. TrainLoraNode.Definitions(folders),
        .. LoraModelNodes.Definitions(folders),
        .. DepthNodes.Definitions(folders),
        .. InsightFaceNodes.Definitions(folders),
        .. ClipVisionNodes.Definitions(folders),
        .. IpAdapterNodes.Definitions(folders),
    ];
}
