namespace CharacterGen.GraphRuntime.Execution;

/// <summary>An exception thrown by a node, tagged with the node that threw it.</summary>
public sealed class NodeExecutionException(string nodeId, string classType, Exception inner)
    : Exception($"Node {nodeId} ({classType}) failed: {inner.Message}", inner)
{
    public string NodeId { get; } = nodeId;
    public string ClassType { get; } = classType;
}
