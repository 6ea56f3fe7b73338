using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.WorkflowsApi.Support;

/// <summary>
/// Records the server's log lines and lets a test wait for one, so it can synchronise with things the server
/// only reports in its log (a call's handler having finished) instead of sleeping.
/// </summary>
public sealed class LogWatch : ILoggerProvider
{
    private readonly Lock _gate = new();
    private readonly List<string> _lines = [];
    private readonly List<(Func<string, bool> Match, TaskCompletionSource<string> Found)> _waiters = [];

    public IReadOnlyList<string> Lines
    {
        get { lock (_gate) return _lines.ToArray(); }
    }

    /// <summary>Completes with the first line (already logged or future) that matches.</summary>
    public Task<string> WhenLogged(Func<string, bool> match)
    {
        lock (_gate)
        {
            foreach (var line in _lines)
                if (match(line)) return Task.FromResult(line);
            var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
            _waiters.Add((match, found));
            return found.Task;
        }
    }

    public ILogger CreateLogger(string categoryName) => new Logger(this);

    public void Dispose() { }

    private void Add(string line)
    {
        lock (_gate)
        {
            _lines.Add(line);
            for (var i = _waiters.Count - 1; i >= 0; i--)
            {
                if (!_waiters[i].Match(line)) continue;
                _waiters[i].Found.TrySetResult(line);
                _waiters.RemoveAt(i);
            }
        }
    }

    private sealed class Logger(LogWatch owner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner.Add(formatter(state, exception));
    }
}
