using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// The connected WebSockets by client id (ComfyUI's <c>sockets[sid]</c>): a new socket with a known id replaces the
/// old one; job messages go to the sockets of the prompt's client_id only, <c>status</c> to everyone.
/// </summary>
public sealed class ComfySocketHub(WorkflowEngine engine, ComfyApiOptions options)
{
    private readonly ConcurrentDictionary<string, ComfySocketSession> _sessions = new(StringComparer.Ordinal);
    private readonly Lock _statusGate = new();
    private int _lastRemaining; // the queue is empty when the server starts
    private RunningPrompt? _running;

    /// <summary>The prompt executing now, its client and the node it is in (for a client that reconnects).</summary>
    internal sealed record RunningPrompt(string PromptId, string? ClientId, string? Node);

    public int ConnectionCount => _sessions.Count;

    /// <summary>ComfyUI's queue_remaining: pending plus running.</summary>
    public int QueueRemaining()
    {
        var queue = engine.Queue;
        return queue.Pending.Count + queue.AllRunning.Count;
    }

    /// <summary>The flags answered to a feature_flags handshake and served by GET /features.</summary>
    public JsonObject ServerFeatures() => new()
    {
        ["supports_preview_metadata"] = true,
        ["max_upload_size"] = options.MaxUploadBytes,
    };

    internal RunningPrompt? Running => Volatile.Read(ref _running);

    internal void SetRunning(RunningPrompt? running) => Volatile.Write(ref _running, running);

    internal void ClearRunning(string promptId)
    {
        var current = Running;
        if (current?.PromptId == promptId) Interlocked.CompareExchange(ref _running, null, current);
    }

    internal void Attach(ComfySocketSession session)
    {
        ComfySocketSession? replaced = null;
        _sessions.AddOrUpdate(session.ClientId, session, (_, old) =>
        {
            replaced = old;
            return session;
        });
        if (replaced is not null && !ReferenceEquals(replaced, session)) replaced.Close();
    }

    internal void Detach(ComfySocketSession session) =>
        _sessions.TryRemove(new KeyValuePair<string, ComfySocketSession>(session.ClientId, session));

    /// <summary>True when a socket with this client id is connected (so messages for it are worth building).</summary>
    internal bool IsConnected(string? clientId) => clientId is not null && _sessions.ContainsKey(clientId);

    internal void SendTo(string? clientId, OutboundFrame frame)
    {
        if (clientId is not null && _sessions.TryGetValue(clientId, out var session)) session.Enqueue(frame);
    }

    internal void Broadcast(OutboundFrame frame)
    {
        foreach (var session in _sessions.Values) session.Enqueue(frame);
    }

    /// <summary>Sends <c>status</c> to every socket; with <paramref name="onlyIfChanged"/> only when queue_remaining moved.</summary>
    internal void BroadcastStatus(bool onlyIfChanged = false)
    {
        lock (_statusGate)
        {
            var remaining = QueueRemaining();
            if (onlyIfChanged && remaining == _lastRemaining) return;
            _lastRemaining = remaining;
            Broadcast(TextFrame.Of(ExecutionMessages.Status, ExecutionMessages.StatusData(remaining)));
        }
    }
}
