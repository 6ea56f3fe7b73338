using CharacterGen.Nodes.Files;
using CharacterGen.Nodes.ModelCaching;

namespace CharacterGen.Nodes.Runtime;

/// <summary>The folders a catalogue's nodes read and write: the models tree (with its aliases) and input/output/temp.</summary>
public sealed record NodeFolders(ModelFolders Models, DataFolders Data, ModelAliases? Aliases = null)
{
    public ModelAliases Aliases { get; init; } = Aliases ?? ModelAliases.Empty;
}
