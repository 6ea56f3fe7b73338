namespace CharacterGen.Server.Grpc;

/// <summary>The server's message stream in server-streaming and duplex calls.</summary>
public interface IServerStreamWriter<in T>
{
    /// <summary>
    /// Sends one message and waits until the transport has taken it (HTTP/2 flow control applies, so
    /// a slow reader slows the writer). Writes must not overlap.
    /// </summary>
    Task WriteAsync(T message, CancellationToken cancellationToken = default);
}
