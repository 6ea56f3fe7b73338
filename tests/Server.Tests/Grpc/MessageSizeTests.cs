using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class MessageSizeTests
{
    private const int Limit = 64 * 1024;

    private TestServer _server = null!;
    private GrpcTestClient _client = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { MaxReceiveMessageBytes = Limit, MaxSendMessageBytes = Limit } });
        _client = _server.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task Request_over_the_receive_limit_is_resource_exhausted()
    {
        var result = await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Payload = ByteString.CopyFrom(new byte[Limit + 1]) });

        Assert.That(result.Status, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(result.StatusMessage, Is.EqualTo("Received message exceeds the maximum configured message size."));
        await AssertStillServing();
    }

    [Test]
    public async Task Oversized_length_prefix_is_refused_from_the_prefix_alone()
    {
        // Announce 1 GiB but send only the header: the server must answer from the prefix alone.
        var result = await _client.SendRawAsync(EchoPaths.Unary, GrpcFrames.Header(1u << 30));

        Assert.That(result.Status, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Request_at_the_limit_is_accepted()
    {
        var request = new EchoRequest { Payload = ByteString.CopyFrom(new byte[Limit - 16]) };
        Assert.That(request.CalculateSize(), Is.LessThanOrEqualTo(Limit));

        var result = await _client.UnaryAsync(EchoPaths.Unary, request);

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Compressed_request_that_inflates_past_the_limit_is_resource_exhausted()
    {
        // 1 MiB of zeros gzips to about 1 KiB: under the limit on the wire, far over it inflated.
        var bomb = new EchoRequest { Payload = ByteString.CopyFrom(new byte[1024 * 1024]) };

        var result = await _client.UnaryAsync(EchoPaths.Unary, bomb, new CallOptions { Encoding = "gzip", CompressRequests = true });

        Assert.That(result.Status, Is.EqualTo(StatusCode.ResourceExhausted));
    }

    [Test]
    public async Task Response_over_the_send_limit_is_resource_exhausted()
    {
        var result = await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest { ResponsePayloadBytes = Limit + 1 });

        Assert.That(result.Status, Is.EqualTo(StatusCode.ResourceExhausted));
        Assert.That(result.StatusMessage, Is.EqualTo("Sending message exceeds the maximum configured message size."));
        Assert.That(result.Messages, Is.Empty);
        await AssertStillServing();
    }

    [Test]
    public async Task Many_small_messages_may_exceed_the_limit_in_total()
    {
        var requests = Enumerable.Range(0, 8).Select(_ => new EchoRequest { Payload = ByteString.CopyFrom(new byte[Limit / 2]) });

        var result = await _client.CallAsync(EchoPaths.ClientStream, requests);

        Assert.That(result.Single(EchoResponse.Parser).PayloadBytes, Is.EqualTo(4 * Limit));
    }

    private async Task AssertStillServing() =>
        Assert.That((await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "ok" })).Status, Is.EqualTo(StatusCode.OK));
}
