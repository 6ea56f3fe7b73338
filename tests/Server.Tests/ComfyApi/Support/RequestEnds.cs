using System.Diagnostics;

namespace CharacterGen.Server.Tests.ComfyApi.Support;

/// <summary>
/// Completes when the in-process server has finished a request: ASP.NET Core stops its request activity after the
/// application, and the server's logging of any failure, are done. Lets a test wait for the server to have dealt with
/// an aborted request instead of sleeping. Listens process-wide: start it just before the request it waits for.
/// </summary>
public sealed class RequestEnds : IDisposable
{
    private readonly TaskCompletionSource _first = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly ActivityListener _listener;

    public RequestEnds()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == "Microsoft.AspNetCore",
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllData,
            ActivityStopped = _ => _first.TrySetResult(),
        };
        ActivitySource.AddActivityListener(_listener);
    }

    /// <summary>The first request the server finished after this was created.</summary>
    public Task First => _first.Task;

    public void Dispose() => _listener.Dispose();
}
