namespace CharacterGen.Server.Grpc;

/// <summary>The client's message stream in client-streaming and duplex calls.</summary>
public interface IAsyncStreamReader<out T>
{
    /// <summary>The message read by the last successful <see cref="MoveNext"/>.</summary>
    T Current { get; }

    /// <summary>Reads the next message; false once the client has finished sending.</summary>
    Task<bool> MoveNext(CancellationToken cancellationToken = default);
}

public static class AsyncStreamReaderExtensions
{
    /// <summary>Every remaining message, for <c>await foreach</c>.</summary>
    public static async IAsyncEnumerable<T> ReadAllAsync<T>(
        this IAsyncStreamReader<T> reader,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        while (await reader.MoveNext(cancellationToken))
            yield return reader.Current;
    }
}
