using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace CharacterGen.Server.Tests.ComfyApi.Support;

/// <summary>One frame received from the server: a JSON text message or a binary frame.</summary>
public sealed record Received(JsonObject? Json, byte[]? Binary)
{
    public string? Type => Json?["type"]?.GetValue<string>();
    public JsonObject? Data => Json?["data"] as JsonObject;
    public bool IsBinary => Binary is not null;

    /// <summary>The "executing {node: null, prompt_id}" finish signal of a prompt.</summary>
    public bool IsFinishOf(string promptId) =>
        Type == "executing" && Data!["node"] is null && Data["prompt_id"]?.GetValue<string>() == promptId;

    public override string ToString() => Json?.ToJsonString() ?? $"binary[{Binary!.Length}]";
}

/// <summary>A real System.Net.WebSockets client that keeps reading into a queue the test inspects in order.</summary>
public sealed class ComfySocket : IAsyncDisposable
{
    /// <summary>Guards waits that only hang if the server is broken (never a timing assertion).</summary>
    public static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    private readonly ClientWebSocket _socket;
    private readonly Channel<Received> _frames = Channel.CreateUnbounded<Received>();
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _reader;

    private ComfySocket(ClientWebSocket socket)
    {
        _socket = socket;
        _reader = Task.Run(ReadLoopAsync);
    }

    public WebSocketState State => _socket.State;
    public WebSocketCloseStatus? CloseStatus => _socket.CloseStatus;

    public static async Task<ComfySocket> ConnectAsync(Uri address, Action<ClientWebSocketOptions>? configure = null)
    {
        var socket = new ClientWebSocket();
        configure?.Invoke(socket.Options);
        using var timeout = new CancellationTokenSource(Hang);
        await socket.ConnectAsync(address, timeout.Token);
        return new ComfySocket(socket);
    }

    public Task SendTextAsync(string text) =>
        _socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, endOfMessage: true, CancellationToken.None);

    public async Task<Received> NextAsync()
    {
        using var timeout = new CancellationTokenSource(Hang);
        try { return await _frames.Reader.ReadAsync(timeout.Token); }
        catch (OperationCanceledException) { throw new TimeoutException("no WebSocket frame arrived"); }
        catch (ChannelClosedException) { throw new WebSocketException("the server closed the WebSocket"); }
    }

    /// <summary>Every frame up to and including the first that matches.</summary>
    public async Task<List<Received>> ReadUntilAsync(Func<Received, bool> match)
    {
        var frames = new List<Received>();
        while (true)
        {
            var frame = await NextAsync();
            frames.Add(frame);
            if (match(frame)) return frames;
        }
    }

    /// <summary>The frames of one prompt up to its executing-null finish signal.</summary>
    public Task<List<Received>> ReadUntilFinishedAsync(string promptId) => ReadUntilAsync(f => f.IsFinishOf(promptId));

    /// <summary>Frames already received, without waiting.</summary>
    public List<Received> Drain()
    {
        var frames = new List<Received>();
        while (_frames.Reader.TryRead(out var frame)) frames.Add(frame);
        return frames;
    }

    /// <summary>True when the server closed (or dropped) the connection within <see cref="Hang"/>.</summary>
    public async Task<bool> WaitClosedAsync()
    {
        try { await _reader.WaitAsync(Hang); }
        catch (TimeoutException) { return false; }
        return true;
    }

    private async Task ReadLoopAsync()
    {
        var buffer = new byte[64 * 1024];
        var message = new MemoryStream();
        try
        {
            while (true)
            {
                var result = await _socket.ReceiveAsync(buffer, _stop.Token);
                if (result.MessageType == WebSocketMessageType.Close) break;
                message.Write(buffer, 0, result.Count);
                if (!result.EndOfMessage) continue;
                var bytes = message.ToArray();
                message.SetLength(0);
                _frames.Writer.TryWrite(result.MessageType == WebSocketMessageType.Text
                    ? new Received((JsonObject)JsonNode.Parse(bytes)!, null)
                    : new Received(null, bytes));
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        finally
        {
            _frames.Writer.TryComplete();
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (_socket.State == WebSocketState.Open)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException) { }
        _stop.Cancel();
        try { await _reader.WaitAsync(TimeSpan.FromSeconds(5)); } catch (TimeoutException) { }
        _socket.Dispose();
        _stop.Dispose();
    }
}
