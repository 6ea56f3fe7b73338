namespace CharacterGen.Server.Grpc;

/// <summary>Message size limits of one call and the errors for breaking them (wording as grpc-dotnet's).</summary>
public readonly record struct MessageLimits(int MaxReceiveMessageBytes, int MaxSendMessageBytes)
{
    public static RpcException ReceiveTooLarge() =>
        new(StatusCode.ResourceExhausted, "Received message exceeds the maximum configured message size.");

    public static RpcException SendTooLarge() =>
        new(StatusCode.ResourceExhausted, "Sending message exceeds the maximum configured message size.");
}
