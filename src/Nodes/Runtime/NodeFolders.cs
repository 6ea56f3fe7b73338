using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.Runtime;

/// <summary>The folders a catalogue's nodes read and write: the models tree and input/output/temp.</summary>
public sealed record NodeFolders(ModelFolders Models, DataFolders Data);
