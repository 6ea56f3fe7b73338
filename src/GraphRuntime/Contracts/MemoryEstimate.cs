namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// What a node's memory hook says about one call: the peak bytes it needs while it runs (its inputs, temporaries and
/// outputs together), and per output slot an opaque description of the value it will produce (a latent's shape, an
/// image's size) that downstream hooks read through <see cref="MemoryEstimateContext.Upstream"/>. The runtime never
/// looks inside those descriptions; the node catalogue defines them.
/// </summary>
public sealed record MemoryEstimate(long PeakBytes, IReadOnlyList<object?>? Outputs = null)
{
    public static MemoryEstimate None { get; } = new(0);

    /// <summary>Nothing known: no bytes counted, nothing passed downstream.</summary>
    public static MemoryEstimate Unknown => None;
}

/// <summary>The inputs of a memory hook: the node's literals and what its upstream hooks described.</summary>
public sealed class MemoryEstimateContext
{
    private readonly Func<string, object?> _upstream;

    public MemoryEstimateContext(LiteralInputs literals, Func<string, object?> upstream)
    {
        Literals = literals;
        _upstream = upstream;
    }

    public LiteralInputs Literals { get; }

    public IServiceProvider Services => Literals.Services;

    /// <summary>The description the linked source gave for <paramref name="input"/>'s slot; null when unknown or literal.</summary>
    public object? Upstream(string input) => _upstream(input);

    /// <summary><see cref="Upstream"/> as a <typeparamref name="T"/>, or null.</summary>
    public T? Upstream<T>(string input) where T : class => _upstream(input) as T;
}

/// <summary>
/// The memory the host lets one job use at its peak; registered as a service on the engine. Validation refuses a
/// workflow whose largest node estimate exceeds it (memory_budget_exceeded), and nodes with a cheaper fallback (tiled
/// VAE decoding) choose it when the direct way would not fit.
/// </summary>
public sealed record MemoryBudget(long Bytes)
{
    public bool Fits(long bytes) => bytes <= Bytes;
}
