using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json.Nodes;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.ComfyApi.Support;

namespace CharacterGen.Server.Tests.ComfyApi;

/// <summary>Security beyond ComfyUI: optional auth on every route, origin and host checks without auth.</summary>
public sealed class AccessTests
{
    private const string ApiKey = "test-api-key-0123456789";
    private const string Token = "test-bearer-token-0123456789";

    private static readonly (string Method, string Path)[] Routes =
    [
        ("GET", "/prompt"), ("POST", "/prompt"), ("GET", "/queue"), ("POST", "/queue"), ("GET", "/history"), ("GET", "/history/x"),
        ("POST", "/history"), ("GET", "/view?filename=a.png"), ("POST", "/upload/image"), ("POST", "/upload/mask"),
        ("POST", "/interrupt"), ("POST", "/free"), ("GET", "/object_info"), ("GET", "/object_info/Const"), ("GET", "/system_stats"),
        ("GET", "/models"), ("GET", "/models/checkpoints"), ("GET", "/embeddings"), ("GET", "/features"), ("GET", "/ws"),
    ];

    private static IEnumerable<(string, string)> AllRoutes() =>
        Routes.Concat(Routes.Select(r => (r.Method, "/api" + r.Path)))
            .Concat([("GET", "/api/jobs"), ("GET", "/api/jobs/x"), ("POST", "/api/jobs/x/cancel")]);

    private static Task<ComfyServer> StartWithAuth() => ComfyServer.StartAsync(o => o with
    {
        Auth = new AuthOptions { ApiKeys = [ApiKey], BearerTokens = [Token] },
    });

    [Test]
    public async Task With_auth_every_route_but_the_status_page_needs_credentials()
    {
        await using var server = await StartWithAuth();
        foreach (var (method, path) in AllRoutes())
        {
            using var anonymous = await server.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
            Assert.That(anonymous.StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), $"{method} {path}");
            Assert.That(anonymous.Headers.WwwAuthenticate.ToString(), Is.EqualTo("Bearer"));

            using var wrong = new HttpRequestMessage(new HttpMethod(method), path);
            wrong.Headers.Add("x-api-key", "not-the-key-0123456789");
            Assert.That((await server.Http.SendAsync(wrong)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized), $"{method} {path}");

            using var withKey = new HttpRequestMessage(new HttpMethod(method), path);
            withKey.Headers.Add("x-api-key", ApiKey);
            Assert.That((await server.Http.SendAsync(withKey)).StatusCode, Is.Not.EqualTo(HttpStatusCode.Unauthorized), $"{method} {path}");

            using var withToken = new HttpRequestMessage(new HttpMethod(method), path);
            withToken.Headers.Authorization = new AuthenticationHeaderValue("Bearer", Token);
            Assert.That((await server.Http.SendAsync(withToken)).StatusCode, Is.Not.EqualTo(HttpStatusCode.Unauthorized), $"{method} {path}");
        }
        foreach (var open in new[] { "/", "/status" })
            Assert.That((await server.Http.GetAsync(open)).StatusCode, Is.EqualTo(HttpStatusCode.OK), open);
    }

    [Test]
    public async Task With_auth_the_websocket_takes_a_header_or_a_token_query_parameter()
    {
        await using var server = await StartWithAuth();

        await Assert.ThrowsAsync<WebSocketException>(() => ComfySocket.ConnectAsync(server.WebSocketAddress(query: "clientId=a")));
        await Assert.ThrowsAsync<WebSocketException>(() => ComfySocket.ConnectAsync(server.WebSocketAddress(query: "clientId=a&token=wrong-token-0123456789")));

        await using (var byQuery = await ComfySocket.ConnectAsync(server.WebSocketAddress(query: "clientId=a&token=" + Token)))
            Assert.That((await byQuery.NextAsync()).Type, Is.EqualTo("status"));
        await using (var byKeyQuery = await ComfySocket.ConnectAsync(server.WebSocketAddress(query: "clientId=b&token=" + ApiKey)))
            Assert.That((await byKeyQuery.NextAsync()).Type, Is.EqualTo("status"));
        await using (var byHeader = await ComfySocket.ConnectAsync(server.WebSocketAddress(query: "clientId=c"),
                         o => o.SetRequestHeader("x-api-key", ApiKey)))
            Assert.That((await byHeader.NextAsync()).Type, Is.EqualTo("status"));

        // The query token is for the WebSocket only.
        Assert.That((await server.Http.GetAsync("/queue?token=" + Token)).StatusCode, Is.EqualTo(HttpStatusCode.Unauthorized));
    }

    [TestCase("http://evil.example")]
    [TestCase("null")]
    [TestCase("http://127.0.0.1.evil.example")]
    [TestCase("https://localhost:1")]
    [TestCase("garbage")]
    public async Task Without_auth_a_cross_origin_request_is_refused_and_queues_nothing(string origin)
    {
        await using var server = await ComfyServer.StartAsync();
        using var request = PromptRequest();
        request.Headers.Add("Origin", origin);

        using var response = await server.Http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
        Assert.That(server.Engine.ListJobs(), Is.Empty);
        await Assert.ThrowsAsync<WebSocketException>(() => ComfySocket.ConnectAsync(server.WebSocketAddress(),
            o => o.SetRequestHeader("Origin", origin)));
    }

    [Test]
    public async Task Without_auth_a_same_origin_request_is_served()
    {
        await using var server = await ComfyServer.StartAsync();
        using var request = PromptRequest();
        request.Headers.Add("Origin", $"http://{server.HttpAddress.Authority}");

        using var response = await server.Http.SendAsync(request);

        Assert.That(response.StatusCode, Is.EqualTo(HttpStatusCode.OK));
        await using var socket = await ComfySocket.ConnectAsync(server.WebSocketAddress(),
            o => o.SetRequestHeader("Origin", $"http://{server.HttpAddress.Authority}"));
        Assert.That((await socket.NextAsync()).Type, Is.EqualTo("status"));
    }

    [Test]
    public async Task Without_auth_on_loopback_a_foreign_host_name_is_refused_against_dns_rebinding()
    {
        await using var server = await ComfyServer.StartAsync(o => o with { ComfyApi = o.ComfyApi with { AllowedHosts = ["comfy.internal"] } });
        var port = server.HttpAddress.Port;

        foreach (var (host, expected) in new[]
                 {
                     ($"evil.example:{port}", HttpStatusCode.Forbidden), ($"localhost:{port}", HttpStatusCode.OK),
                     ($"127.0.0.1:{port}", HttpStatusCode.OK), ($"[::1]:{port}", HttpStatusCode.OK), ($"comfy.internal:{port}", HttpStatusCode.OK),
                 })
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, "/queue");
            request.Headers.Host = host;
            using var response = await server.Http.SendAsync(request);
            Assert.That(response.StatusCode, Is.EqualTo(expected), host);
        }
        // The rebinding page's own origin matches its Host, so only the host check stops it.
        using var rebound = PromptRequest();
        rebound.Headers.Host = $"evil.example:{port}";
        rebound.Headers.Add("Origin", $"http://evil.example:{port}");
        Assert.That((await server.Http.SendAsync(rebound)).StatusCode, Is.EqualTo(HttpStatusCode.Forbidden));
    }

    private static HttpRequestMessage PromptRequest() => new(HttpMethod.Post, "/prompt")
    {
        Content = new StringContent(new JsonObject { ["prompt"] = TestWorkflows.SaveChain() }.ToJsonString(), Encoding.UTF8, "application/json"),
    };
}
