namespace CharacterGen.Server.Grpc;

public enum MethodType
{
    Unary,
    ClientStreaming,
    ServerStreaming,
    DuplexStreaming,
}

/// <summary>A registered method: its names and the type-erased invoker the dispatcher calls.</summary>
internal sealed record GrpcMethod(string ServiceName, string Name, MethodType Type, Func<GrpcServerCall, Task> Invoke)
{
    /// <summary>"/package.Service/Method", the HTTP/2 :path of a call.</summary>
    public string Path { get; } = $"/{ServiceName}/{Name}";

    public bool AllowAnonymous { get; set; }
}
