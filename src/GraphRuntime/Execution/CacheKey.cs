namespace CharacterGen.GraphRuntime.Execution;

/// <summary>A node's input signature: a SHA-256 over its class, literals and upstream signatures.</summary>
public readonly record struct CacheKey(ulong A, ulong B, ulong C, ulong D)
{
    public override string ToString() => $"{A:x16}{B:x16}{C:x16}{D:x16}";
}
