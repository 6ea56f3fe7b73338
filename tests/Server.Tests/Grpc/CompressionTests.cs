using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Protobuf;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class CompressionTests : ServerFixture
{
    private static readonly EchoRequest Compressible = new() { Text = "zip", Payload = ByteString.CopyFrom(new byte[10_000]) };

    [Test]
    public async Task Gzip_request_messages_are_decompressed()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, Compressible, new CallOptions { Encoding = "gzip", CompressRequests = true });

        var response = result.Single(EchoResponse.Parser);
        Assert.That(response.RequestEncoding, Is.EqualTo("gzip"));
        Assert.That(response.Payload, Is.EqualTo(Compressible.Payload));
    }

    [Test]
    public async Task Uncompressed_messages_are_fine_under_a_gzip_encoding_header()
    {
        // The flag is per message: a client may send some messages uncompressed.
        var result = await Client.UnaryAsync(EchoPaths.Unary, Compressible, new CallOptions { Encoding = "gzip" });

        Assert.That(result.Single(EchoResponse.Parser).Payload, Is.EqualTo(Compressible.Payload));
    }

    [Test]
    public async Task Responses_are_identity_by_default_even_if_the_client_accepts_gzip()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, Compressible, new CallOptions { AcceptEncoding = "identity,deflate,gzip" });

        Assert.That(result.AnyMessageCompressed, Is.False);
        Assert.That(result.Headers.Contains(GrpcProtocol.Encoding), Is.False);
    }

    [Test]
    public async Task Compressed_flag_without_grpc_encoding_is_rejected()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, Compressible, new CallOptions { CompressRequests = true });

        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
    }

    [Test]
    public async Task Unsupported_request_encoding_is_unimplemented_and_lists_ours()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, Compressible, new CallOptions { Encoding = "snappy" });

        Assert.That(result.TrailersOnly, Is.True);
        Assert.That(result.Status, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(result.Headers.GetValues(GrpcProtocol.AcceptEncoding).Single(), Is.EqualTo("identity,gzip"));
    }

    [Test]
    public async Task Server_configured_for_gzip_compresses_for_clients_that_accept_it()
    {
        await using var server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { ResponseCompression = "gzip" } });
        using var client = server.CreateClient();

        var accepted = await client.UnaryAsync(EchoPaths.ServerStream, new EchoRequest { Text = "z", Repeat = 3 },
            new CallOptions { AcceptEncoding = "identity,gzip" });
        var refused = await client.UnaryAsync(EchoPaths.ServerStream, new EchoRequest { Text = "z", Repeat = 3 },
            new CallOptions { AcceptEncoding = "identity" });

        Assert.That(accepted.Headers.GetValues(GrpcProtocol.Encoding).Single(), Is.EqualTo("gzip"));
        Assert.That(accepted.AnyMessageCompressed, Is.True);
        Assert.That(accepted.All(EchoResponse.Parser).Select(r => r.Index), Is.EqualTo(new[] { 0, 1, 2 }));
        Assert.That(refused.AnyMessageCompressed, Is.False);
        Assert.That(refused.Headers.Contains(GrpcProtocol.Encoding), Is.False);
    }
}
