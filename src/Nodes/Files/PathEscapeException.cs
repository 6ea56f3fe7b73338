namespace CharacterGen.Nodes.Files;

/// <summary>A client-supplied file name pointed outside the folder it must stay in.</summary>
public sealed class PathEscapeException(string message) : Exception(message);
