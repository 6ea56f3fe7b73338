using System.Net.WebSockets;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Threading.Channels;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// One client WebSocket. Messages wait in a bounded queue that a dedicated loop drains, so execution never waits
/// for a socket: progress and previews are dropped once the queue is half full, and a client whose queue fills
/// up, or whose socket does not accept a frame within the send timeout, is disconnected.
/// </summary>
internal sealed class ComfySocketSession
{
    private const int MaxIncomingMessageBytes = 64 * 1024;

    private readonly WebSocket _socket;
    private readonly Channel<OutboundFrame> _queue;
    private readonly CancellationTokenSource _closed = new();
    private readonly ComfyApiOptions _options;
    private readonly ILogger _logger;
    private volatile bool _previewMetadata;
    private long _dropped;

    public ComfySocketSession(WebSocket socket, string clientId, ComfyApiOptions options, ILogger logger)
    {
        _socket = socket;
        _options = options;
        _logger = logger;
        ClientId = clientId;
        _queue = Channel.CreateBounded<OutboundFrame>(new BoundedChannelOptions(options.SocketQueueFrames)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite fails instead of dropping silently
        });
    }

    public string ClientId { get; }

    /// <summary>True once the client declared <c>supports_preview_metadata</c> in its feature_flags message.</summary>
    public bool SupportsPreviewMetadata => _previewMetadata;

    /// <summary>Droppable frames skipped because the client was slow (for logs and tests).</summary>
    public long DroppedFrames => Interlocked.Read(ref _dropped);

    public bool IsClosed => _closed.IsCancellationRequested;

    /// <summary>Never blocks. A client that cannot keep up loses progress frames; one that stops reading is closed.</summary>
    public void Enqueue(OutboundFrame frame)
    {
        if (_closed.IsCancellationRequested) return;
        if (frame.Droppable && _queue.Reader.Count >= _options.SocketQueueFrames / 2)
        {
            Interlocked.Increment(ref _dropped);
            return;
        }
        if (_queue.Writer.TryWrite(frame)) return;
        _logger.LogWarning("WebSocket client {ClientId} is not reading ({Frames} frames waiting); disconnecting it", ClientId, _options.SocketQueueFrames);
        Close();
    }

    /// <summary>Ends the session (a newer socket took over the client id, or the client is hopeless).</summary>
    public void Close()
    {
        try { _closed.Cancel(); }
        catch (ObjectDisposedException) { }
    }

    /// <summary>Runs until the client leaves, the request is aborted or <see cref="Close"/> is called.</summary>
    public async Task RunAsync(Func<JsonObject> serverFeatures, CancellationToken requestAborted)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(requestAborted, _closed.Token);
        var sending = SendLoopAsync(linked.Token);
        var receiving = ReceiveLoopAsync(serverFeatures, linked.Token);
        await Task.WhenAny(sending, receiving).ConfigureAwait(false);
        Close();
        linked.Cancel();
        try { await Task.WhenAll(sending, receiving).ConfigureAwait(false); }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
        _queue.Writer.TryComplete();
        await CloseSocketAsync().ConfigureAwait(false);
        _closed.Dispose();
    }

    private async Task SendLoopAsync(CancellationToken cancellationToken)
    {
        var timeout = TimeSpan.FromSeconds(_options.SendTimeoutSeconds);
        await foreach (var frame in _queue.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            var (bytes, type) = frame switch
            {
                TextFrame text => (text.Utf8, WebSocketMessageType.Text),
                PreviewFrame preview => (preview.Encode(_previewMetadata), WebSocketMessageType.Binary),
                _ => throw new InvalidOperationException("unknown frame"),
            };
            using var send = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            send.CancelAfter(timeout);
            try
            {
                await _socket.SendAsync(bytes, type, endOfMessage: true, send.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                _logger.LogWarning("WebSocket client {ClientId} did not accept a frame within {Timeout}; disconnecting it", ClientId, timeout);
                return;
            }
        }
    }

    private async Task ReceiveLoopAsync(Func<JsonObject> serverFeatures, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
        var message = new MemoryStream();
        var first = true;
        while (!cancellationToken.IsCancellationRequested)
        {
            var result = await _socket.ReceiveAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (result.MessageType == WebSocketMessageType.Close) return;
            message.Write(buffer, 0, result.Count);
            if (message.Length > MaxIncomingMessageBytes)
            {
                await _socket.CloseOutputAsync(WebSocketCloseStatus.MessageTooBig, "message too big", cancellationToken).ConfigureAwait(false);
                return;
            }
            if (!result.EndOfMessage) continue;
            if (result.MessageType == WebSocketMessageType.Text && first) HandleFirstMessage(message.ToArray(), serverFeatures);
            first = false;
            message.SetLength(0);
        }
    }

    /// <summary>ComfyUI's handshake: a first text message of type feature_flags is answered with the server's flags.</summary>
    private void HandleFirstMessage(byte[] utf8, Func<JsonObject> serverFeatures)
    {
        JsonNode? parsed;
        try { parsed = JsonNode.Parse(utf8); }
        catch (JsonException) { return; }
        if (parsed is not JsonObject obj || ComfyJson.String(obj, "type") != ExecutionMessages.FeatureFlags) return;
        _previewMetadata = obj["data"]?["supports_preview_metadata"] is JsonValue v && v.TryGetValue<bool>(out var flag) && flag;
        Enqueue(TextFrame.Of(ExecutionMessages.FeatureFlags, serverFeatures()));
    }

    private async Task CloseSocketAsync()
    {
        try
        {
            if (_socket.State is WebSocketState.Open or WebSocketState.CloseReceived)
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, timeout.Token).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or WebSocketException or ObjectDisposedException) { }
        finally
        {
            if (_socket.State != WebSocketState.Closed) _socket.Abort();
        }
    }
}
