using Google.Protobuf;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Ends a call with a status the client sees as-is. <see cref="Exception.Message"/> becomes
/// <c>grpc-message</c>, so it must never contain paths, stack traces or internal identifiers.
/// <paramref name="details"/> (e.g. <c>google.rpc.BadRequest</c>, <c>google.rpc.RetryInfo</c>) are
/// packed into a <c>google.rpc.Status</c> and sent in <c>grpc-status-details-bin</c>.
/// </summary>
public class RpcException(StatusCode statusCode, string message, IReadOnlyList<IMessage>? details = null)
    : Exception(message)
{
    public StatusCode StatusCode { get; } = statusCode;

    public IReadOnlyList<IMessage> Details { get; } = details ?? [];

    public override string ToString() => $"RpcException: {StatusCode}: {Message}";
}
