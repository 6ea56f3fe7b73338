using System.Net.WebSockets;

namespace CharacterGen.Server.ComfyApi;

/// <summary>
/// GET /ws?clientId=…: ComfyUI's event socket. The first message is <c>status</c> with the socket's <c>sid</c>;
/// a client that owns the running prompt also gets the node it is in.
/// </summary>
internal static class WebSocketEndpoint
{
    public static void MapWebSocketRoute(this IEndpointRouteBuilder api)
    {
        api.MapGet("/ws", Connect).WithMetadata(new ComfyApiRoute(QueryToken: true));
    }

    private static async Task Connect(HttpContext context, ComfySocketHub hub, ComfyApiOptions options, ILogger<ComfySocketHub> logger)
    {
        if (!context.WebSockets.IsWebSocketRequest)
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { error = "Expected a WebSocket upgrade." });
            return;
        }
        var clientId = context.Request.Query["clientId"].ToString();
        if (clientId.Length == 0) clientId = Guid.NewGuid().ToString("N");
        else if (clientId.Length > 256 || clientId.Any(char.IsControl))
        {
            context.Response.StatusCode = StatusCodes.Status400BadRequest;
            await context.Response.WriteAsJsonAsync(new { error = "clientId must be at most 256 printable characters." });
            return;
        }

        using var socket = await context.WebSockets.AcceptWebSocketAsync(new WebSocketAcceptContext
        {
            KeepAliveInterval = TimeSpan.FromSeconds(options.KeepAliveSeconds),
        });
        var session = new ComfySocketSession(socket, clientId, options, logger);
        session.Enqueue(TextFrame.Of(ExecutionMessages.Status, ExecutionMessages.StatusData(hub.QueueRemaining(), clientId)));
        if (hub.Running is { ClientId: { } owner, Node: { } node } running && owner == clientId)
            session.Enqueue(TextFrame.Of(ExecutionMessages.Executing, ExecutionMessages.ExecutingNode(running.PromptId, node)));
        hub.Attach(session);
        try
        {
            await session.RunAsync(hub.ServerFeatures, context.RequestAborted);
        }
        finally
        {
            hub.Detach(session);
        }
    }
}
