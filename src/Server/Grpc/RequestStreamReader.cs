using Google.Protobuf;

namespace CharacterGen.Server.Grpc;

/// <summary>The client's messages of a client-streaming or duplex call, read one at a time.</summary>
internal sealed class RequestStreamReader<T>(GrpcServerCall call, MessageParser<T> parser) : IAsyncStreamReader<T>
    where T : IMessage<T>
{
    private T? _current;
    private bool _finished;

    public T Current => _current ?? throw new InvalidOperationException("MoveNext has not returned true yet.");

    public async Task<bool> MoveNext(CancellationToken cancellationToken = default)
    {
        if (_finished) return false;
        var token = call.Context.CancellationToken;
        using var linked = cancellationToken.CanBeCanceled
            ? CancellationTokenSource.CreateLinkedTokenSource(token, cancellationToken)
            : null;
        _current = await call.ReadAsync(parser, linked?.Token ?? token);
        _finished = _current is null;
        return !_finished;
    }
}
