namespace CharacterGen.GraphRuntime.Execution;

/// <summary>
/// Why a job failed: the node, its class, the exception type name and message, and a short summary
/// of the node's inputs. <see cref="Exception"/> is for server logs, never for clients.
/// </summary>
public sealed record JobError(string? NodeId, string? ClassType, string ErrorType, string Message,
    IReadOnlyDictionary<string, string> InputsSummary, Exception? Exception = null);
