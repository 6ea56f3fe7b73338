namespace CharacterGen.GraphRuntime.Execution;

/// <summary>How long a node took in a job (zero when served from the cache).</summary>
public sealed record NodeTiming(string NodeId, string ClassType, bool Cached, TimeSpan Duration);
