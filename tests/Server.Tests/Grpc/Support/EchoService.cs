using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using Google.Protobuf;
using Grpc.Core;

namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>The paths of cgtest.v1.Echo's methods, for the tests' own wire client.</summary>
public static class EchoPaths
{
    public const string Unary = "/cgtest.v1.Echo/Unary";
    public const string ServerStream = "/cgtest.v1.Echo/ServerStream";
    public const string ClientStream = "/cgtest.v1.Echo/ClientStream";
    public const string Duplex = "/cgtest.v1.Echo/Duplex";
    public const string WaitForCancellation = "/cgtest.v1.Echo/WaitForCancellation";
    public const string Hold = "/cgtest.v1.Echo/Hold";
    public const string Fail = "/cgtest.v1.Echo/Fail";
}

/// <summary>The test-only cgtest.v1.Echo service (see echo.proto).</summary>
public sealed class EchoService(EchoProbe probe) : Echo.Echo.EchoBase
{
    public override async Task<EchoResponse> Unary(EchoRequest request, ServerCallContext context)
    {
        await context.WriteResponseHeadersAsync(new Metadata { { "x-echo-header", "header-value" } });
        context.ResponseTrailers.Add("x-echo-trailer", "trailer-value");
        var payload = request.ResponsePayloadBytes > 0 ? ByteString.CopyFrom(new byte[request.ResponsePayloadBytes]) : request.Payload;
        return new EchoResponse
        {
            Text = request.Text,
            Payload = payload,
            // The library keeps grpc-* headers out of RequestHeaders.
            RequestEncoding = context.GetHttpContext().Request.Headers[GrpcProtocol.Encoding].ToString(),
        };
    }

    public override async Task ServerStream(EchoRequest request, IServerStreamWriter<EchoResponse> responses, ServerCallContext context)
    {
        for (var i = 0; i < request.Repeat; i++)
            await responses.WriteAsync(new EchoResponse { Text = request.Text, Index = i });
    }

    public override async Task<EchoResponse> ClientStream(IAsyncStreamReader<EchoRequest> requests, ServerCallContext context)
    {
        var texts = new List<string>();
        long bytes = 0;
        await foreach (var request in requests.ReadAllAsync(context.CancellationToken))
        {
            texts.Add(request.Text);
            bytes += request.Payload.Length;
        }
        return new EchoResponse { Text = string.Join(",", texts), Index = texts.Count, PayloadBytes = bytes };
    }

    public override async Task Duplex(IAsyncStreamReader<EchoRequest> requests, IServerStreamWriter<EchoResponse> responses, ServerCallContext context)
    {
        var index = 0;
        while (await requests.MoveNext())
            await responses.WriteAsync(new EchoResponse { Text = requests.Current.Text, Index = index++ });
    }

    public override async Task<EchoResponse> WaitForCancellation(EchoRequest request, ServerCallContext context)
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

    public override async Task<EchoResponse> Hold(EchoRequest request, ServerCallContext context)
    {
        probe.MarkStarted(request.Text);
        await probe.WhenReleased(request.Text);
        return new EchoResponse { Text = request.Text };
    }

    public override async Task Fail(FailRequest request, IServerStreamWriter<EchoResponse> responses, ServerCallContext context)
    {
        for (var i = 0; i < request.MessagesBefore; i++)
            await responses.WriteAsync(new EchoResponse { Index = i });
        switch (request.Kind)
        {
            case FailRequest.Types.Kind.RpcException:
                throw new RpcException(new Status(StatusCode.Aborted, request.Message));
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
