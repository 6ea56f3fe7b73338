using System.Collections.Concurrent;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>What the Echo service saw, keyed by the request text each test chooses, so tests sharing a server stay independent.</summary>
public sealed class EchoProbe
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _started = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _cancelled = new();
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _released = new();

    public Task Started(string key) => Source(_started, key).Task;

    /// <summary>Completes when the handler for <paramref name="key"/> observed its CancellationToken firing.</summary>
    public Task CancellationObserved(string key) => Source(_cancelled, key).Task;

    public int CancellationsObserved => _cancelled.Values.Count(source => source.Task.IsCompleted);

    public void Release(string key) => Source(_released, key).TrySetResult();

    internal void MarkStarted(string key) => Source(_started, key).TrySetResult();

    internal void MarkCancelled(string key) => Source(_cancelled, key).TrySetResult();

    internal Task WhenReleased(string key) => Source(_released, key).Task;

    private static TaskCompletionSource Source(ConcurrentDictionary<string, TaskCompletionSource> map, string key) =>
        map.GetOrAdd(key, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
