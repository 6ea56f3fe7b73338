using System.Net;
using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Grpc;

/// <summary>gRPC-Web's CORS on the HTTP port: none by default (same origin only), the configured origins otherwise.</summary>
public sealed class GrpcWebCorsTests
{
    private const string Allowed = "https://app.example.com";

    [Test]
    public async Task Without_configured_origins_no_cross_origin_page_may_call()
    {
        await using var server = await TestServer.StartAsync();

        var response = await PreflightAsync(server, Allowed);

        Assert.That(response.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
    }

    [Test]
    public async Task Configured_origin_may_call_and_read_the_grpc_status()
    {
        await using var server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { WebAllowedOrigins = [Allowed] } });

        var allowed = await PreflightAsync(server, Allowed);
        var other = await PreflightAsync(server, "https://evil.example.com");

        Assert.That(allowed.StatusCode, Is.EqualTo(HttpStatusCode.NoContent));
        Assert.That(allowed.Headers.GetValues("Access-Control-Allow-Origin").Single(), Is.EqualTo(Allowed));
        Assert.That(other.Headers.Contains("Access-Control-Allow-Origin"), Is.False);
    }

    [Test]
    public void Origins_must_be_origins()
    {
        var options = new CharacterGen.Server.Hosting.ServerOptions { Grpc = new() { WebAllowedOrigins = ["app.example.com/path"] } };

        Assert.That(options.Validate(), Has.Some.Contains("WebAllowedOrigins"));
    }

    private static async Task<HttpResponseMessage> PreflightAsync(TestServer server, string origin)
    {
        using var http = new HttpClient { BaseAddress = server.HttpAddress };
        using var request = new HttpRequestMessage(HttpMethod.Options, EchoPaths.ServerStream);
        request.Headers.Add("Origin", origin);
        request.Headers.Add("Access-Control-Request-Method", "POST");
        request.Headers.Add("Access-Control-Request-Headers", "content-type,x-grpc-web,x-api-key");
        return await http.SendAsync(request);
    }
}
