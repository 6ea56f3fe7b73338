using Google.Protobuf;

namespace CharacterGen.Server.Grpc;

/// <summary>The response side of a server-streaming or duplex call.</summary>
internal sealed class ResponseStreamWriter<T>(GrpcServerCall call) : IServerStreamWriter<T> where T : IMessage<T>
{
    public async Task WriteAsync(T message, CancellationToken cancellationToken = default)
    {
        var token = call.Context.CancellationToken;
        if (!cancellationToken.CanBeCanceled)
        {
            await call.WriteAsync(message, token);
            return;
        }
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken);
        await call.WriteAsync(message, linked.Token);
    }
}
