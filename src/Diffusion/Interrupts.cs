namespace CharacterGen.Diffusion;

/// <summary>
/// Cooperative cancellation for long model calls. The caller (a job's node) watches a token on the tensor thread; the
/// model code calls <see cref="ThrowIfRequested"/> between blocks, attention chunks and VAE tiles, so a cancel takes
/// effect within about one block's time instead of one sampler step. Thread-local, like the dispose scopes: every
/// tensor call of a job runs on one worker thread, and a library user who watches nothing pays one field read.
/// </summary>
public static class Interrupts
{
    [ThreadStatic] private static CancellationToken t_token;

    /// <summary>Makes <paramref name="token"/> the current thread's interrupt until the result is disposed (nestable).</summary>
    public static Watch WatchToken(CancellationToken token)
    {
        var previous = t_token;
        t_token = token;
        return new Watch(previous);
    }

    /// <summary>The token being watched on this thread (none outside <see cref="WatchToken"/>).</summary>
    public static CancellationToken Current => t_token;

    /// <summary>Throws <see cref="OperationCanceledException"/> when the watched token is cancelled.</summary>
    public static void ThrowIfRequested() => t_token.ThrowIfCancellationRequested();

    /// <summary>Restores the token watched before.</summary>
    public readonly struct Watch : IDisposable
    {
        private readonly CancellationToken _previous;
        internal Watch(CancellationToken previous) => _previous = previous;
        public void Dispose() => t_token = _previous;
    }
}
