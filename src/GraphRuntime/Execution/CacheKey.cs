namespace CharacterGen.GraphRuntime.Execution;

/// <summary>A node's input signature: a keyed 128-bit hash over its class, literals and upstream signatures.</summary>
public readonly record struct CacheKey(ulong Low, ulong High)
{
    public override string ToString() => $"{High:x16}{Low:x16}";
}
