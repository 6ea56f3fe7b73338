using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class CallShapeTests : ServerFixture
{
    [Test]
    public async Task Unary_returns_one_message_then_ok_in_trailers()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "hello", Payload = ByteString.CopyFromUtf8("bytes") });

        Assert.That(result.HttpStatus, Is.EqualTo(System.Net.HttpStatusCode.OK));
        Assert.That(result.ContentType, Is.EqualTo("application/grpc"));
        Assert.That(result.TrailersOnly, Is.False);
        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
        var response = result.Single(EchoResponse.Parser);
        Assert.That(response.Text, Is.EqualTo("hello"));
        Assert.That(response.Payload.ToStringUtf8(), Is.EqualTo("bytes"));
    }

    [Test]
    public async Task Handler_metadata_goes_out_as_response_headers_and_trailers()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "meta" });

        Assert.That(result.Headers.GetValues("x-echo-header").Single(), Is.EqualTo("header-value"));
        Assert.That(result.Trailers!.GetValues("x-echo-trailer").Single(), Is.EqualTo("trailer-value"));
        Assert.That(result.Headers.GetValues(GrpcProtocol.AcceptEncoding).Single(), Is.EqualTo("identity,gzip"));
    }

    [Test]
    public async Task Grpc_proto_content_type_is_accepted()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "proto" },
            new CallOptions { ContentType = "application/grpc+proto" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
        Assert.That(result.Single(EchoResponse.Parser).Text, Is.EqualTo("proto"));
    }

    [Test]
    public async Task Server_streaming_sends_every_message_in_order()
    {
        var result = await Client.UnaryAsync(EchoPaths.ServerStream, new EchoRequest { Text = "s", Repeat = 5 });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
        Assert.That(result.All(EchoResponse.Parser).Select(r => r.Index), Is.EqualTo(new[] { 0, 1, 2, 3, 4 }));
    }

    [Test]
    public async Task Server_streaming_with_no_messages_is_ok()
    {
        var result = await Client.UnaryAsync(EchoPaths.ServerStream, new EchoRequest { Repeat = 0 });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
        Assert.That(result.Messages, Is.Empty);
    }

    [Test]
    public async Task Client_streaming_reads_every_message_until_half_close()
    {
        var requests = Enumerable.Range(0, 4).Select(i => new EchoRequest { Text = $"m{i}", Payload = ByteString.CopyFrom(new byte[1000]) });

        var result = await Client.CallAsync(EchoPaths.ClientStream, requests);

        var response = result.Single(EchoResponse.Parser);
        Assert.That(response.Text, Is.EqualTo("m0,m1,m2,m3"));
        Assert.That(response.Index, Is.EqualTo(4));
        Assert.That(response.PayloadBytes, Is.EqualTo(4000));
    }

    [Test]
    public async Task Client_streaming_messages_may_arrive_over_time_and_split_across_frames()
    {
        using var call = Client.Start(EchoPaths.ClientStream);
        await call.SendAsync(new EchoRequest { Text = "a" });
        await call.SendAsync(new EchoRequest { Text = "b" });
        call.CompleteRequest();

        var result = await call.FinishAsync();

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
        Assert.That(result.Single(EchoResponse.Parser).Text, Is.EqualTo("a,b"));
    }

    [Test]
    public async Task Duplex_answers_each_message_before_the_next_is_sent()
    {
        using var call = Client.Start(EchoPaths.Duplex);
        foreach (var text in new[] { "one", "two", "three" })
        {
            await call.SendAsync(new EchoRequest { Text = text });
            var reply = await call.ReadAsync(EchoResponse.Parser).WaitAsync(Hang);
            Assert.That(reply!.Text, Is.EqualTo(text));
        }
        call.CompleteRequest();

        Assert.That(await call.ReadAsync(EchoResponse.Parser), Is.Null);
        Assert.That((await call.FinishAsync()).Status, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Unary_with_two_request_messages_is_rejected()
    {
        var result = await Client.CallAsync(EchoPaths.Unary, [new EchoRequest(), new EchoRequest()]);

        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
        Assert.That(result.Messages, Is.Empty);
    }

    [Test]
    public async Task Unary_without_a_request_message_is_rejected()
    {
        var result = await Client.CallAsync(EchoPaths.Unary, []);

        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
    }

    [Test]
    public async Task Truncated_message_is_rejected_and_the_server_keeps_serving()
    {
        var frame = GrpcFrames.Frame(new EchoRequest { Text = "cut short" });

        var result = await Client.SendRawAsync(EchoPaths.Unary, frame[..^3]);

        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
        Assert.That((await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "next" })).Status, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Unparseable_message_fails_and_reveals_nothing()
    {
        var result = await Client.SendRawAsync(EchoPaths.Unary, GrpcFrames.Frame([0xFF, 0xFF, 0xFF]));

        // Grpc.AspNetCore parses before any interceptor runs and answers UNKNOWN with a fixed text.
        Assert.That(result.Status, Is.EqualTo(StatusCode.Unknown));
        Assert.That(result.StatusMessage, Is.EqualTo("Exception was thrown by handler."));
    }
}
