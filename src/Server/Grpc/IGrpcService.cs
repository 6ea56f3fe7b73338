namespace CharacterGen.Server.Grpc;

/// <summary>
/// A gRPC service: registers its handlers and proto files once, when the registry is built.
/// Implementations are DI singletons (<c>services.AddGrpcService&lt;T&gt;()</c>).
/// </summary>
public interface IGrpcService
{
    void Register(GrpcServiceRegistry registry);
}
