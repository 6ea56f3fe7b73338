using CharacterGen.GraphRuntime.Nodes;

namespace CharacterGen.Nodes;

/// <summary>
/// The production node catalogue: every node class CharacterGen ships, composed from the node groups in this project.
/// The server, the `run` CLI and the ComfyUI API all take their nodes from here.
/// </summary>
public static class BuiltinNodes
{
    public static NodeCatalog Catalog() => new(Definitions());

    public static IEnumerable<NodeDefinition> Definitions() => [];
}
