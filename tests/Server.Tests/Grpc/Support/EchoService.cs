using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using Google.Protobuf;
using Google.Rpc;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>The test-only cgtest.v1.Echo service (see echo.proto).</summary>
public sealed class EchoService(EchoProbe probe) : IGrpcService
{
    public const string Unary = "/cgtest.v1.Echo/Unary";
    public const string ServerStream = "/cgtest.v1.Echo/ServerStream";
    public const string ClientStream = "/cgtest.v1.Echo/ClientStream";
    public const string Duplex = "/cgtest.v1.Echo/Duplex";
    public const string WaitForCancellation = "/cgtest.v1.Echo/WaitForCancellation";
    public const string Hold = "/cgtest.v1.Echo/Hold";
    public const string Fail = "/cgtest.v1.Echo/Fail";

    public void Register(GrpcServiceRegistry registry)
    {
        var service = EchoReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Echo");
        registry
            .AddUnary<EchoRequest, EchoResponse>(service.FindMethodByName("Unary"), UnaryAsync)
            .AddServerStreaming<EchoRequest, EchoResponse>(service.FindMethodByName("ServerStream"), ServerStreamAsync)
            .AddClientStreaming<EchoRequest, EchoResponse>(service.FindMethodByName("ClientStream"), ClientStreamAsync)
            .AddDuplexStreaming<EchoRequest, EchoResponse>(service.FindMethodByName("Duplex"), DuplexAsync)
            .AddUnary<EchoRequest, EchoResponse>(service.FindMethodByName("WaitForCancellation"), WaitForCancellationAsync)
            .AddUnary<EchoRequest, EchoResponse>(service.FindMethodByName("Hold"), HoldAsync)
            .AddServerStreaming<FailRequest, EchoResponse>(service.FindMethodByName("Fail"), FailAsync);
    }

    private static Task<EchoResponse> UnaryAsync(EchoRequest request, CallContext context)
    {
        context.ResponseHeaders.Add("x-echo-header", "header-value");
        context.ResponseTrailers.Add("x-echo-trailer", "trailer-value");
        var payload = request.ResponsePayloadBytes > 0 ? ByteString.CopyFrom(new byte[request.ResponsePayloadBytes]) : request.Payload;
        return Task.FromResult(new EchoResponse
        {
            Text = request.Text,
            Payload = payload,
            RequestEncoding = context.RequestHeaders[GrpcProtocol.Encoding].ToString(),
        });
    }

    private static async Task ServerStreamAsync(EchoRequest request, IServerStreamWriter<EchoResponse> responses, CallContext context)
    {
        for (var i = 0; i < request.Repeat; i++)
            await responses.WriteAsync(new EchoResponse { Text = request.Text, Index = i });
    }

    private static async Task<EchoResponse> ClientStreamAsync(IAsyncStreamReader<EchoRequest> requests, CallContext context)
    {
        var texts = new List<string>();
        long bytes = 0;
        await foreach (var request in requests.ReadAllAsync())
        {
            texts.Add(request.Text);
            bytes += request.Payload.Length;
        }
        return new EchoResponse { Text = string.Join(",", texts), Index = texts.Count, PayloadBytes = bytes };
    }

    private static async Task DuplexAsync(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoResponse> responses, CallContext context)
    {
        var index = 0;
        while (await requests.MoveNext())
            await responses.WriteAsync(new EchoResponse { Text = requests.Current.Text, Index = index++ });
    }

    private async Task<EchoResponse> WaitForCancellationAsync(EchoRequest request, CallContext context)
    {
        probe.MarkStarted(request.Text);
        try
        {
            await Task.Delay(Timeout.Infinite, context.CancellationToken);
        }
        catch (OperationCanceledException)
        {
            probe.MarkCancelled(request.Text);
            throw;
        }
        throw new InvalidOperationException("unreachable");
    }

    private async Task<EchoResponse> HoldAsync(EchoRequest request, CallContext context)
    {
        probe.MarkStarted(request.Text);
        await probe.WhenReleased(request.Text);
        return new EchoResponse { Text = request.Text };
    }

    private static async Task FailAsync(FailRequest request, IServerStreamWriter<EchoResponse> responses, CallContext context)
    {
        for (var i = 0; i < request.MessagesBefore; i++)
            await responses.WriteAsync(new EchoResponse { Index = i });
        switch (request.Kind)
        {
            case FailRequest.Types.Kind.RpcException:
                throw new RpcException(StatusCode.Aborted, request.Message);
            case FailRequest.Types.Kind.PlainException:
                throw new InvalidOperationException(request.Message);
            case FailRequest.Types.Kind.BadRequest:
                RpcErrors.ThrowInvalidArgument(request.Message, [("nodes[\"7\"].inputs.steps", "must be between 1 and 150"), ("seed", "must not be negative")]);
                break;
            case FailRequest.Types.Kind.RetryLater:
                RpcErrors.ThrowResourceExhausted(request.Message, TimeSpan.FromSeconds(3));
                break;
        }
    }
}
