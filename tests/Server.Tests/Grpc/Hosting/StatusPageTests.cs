using System.Net.Http.Json;
using System.Text.Json;
using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Grpc.Hosting;

public sealed class StatusPageTests
{
    [Test]
    public async Task Http_port_serves_health_and_advertised_limits()
    {
        const string path = "/status";
        await using var server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { MaxReceiveMessageBytes = 12345 } });
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        var status = await http.GetFromJsonAsync<JsonElement>(path);

        Assert.That(status.GetProperty("status").GetString(), Is.EqualTo("Serving"));
        Assert.That(status.GetProperty("grpc").GetProperty("port").GetInt32(), Is.EqualTo(server.GrpcAddress.Port));
        Assert.That(status.GetProperty("limits").GetProperty("maxReceiveMessageBytes").GetInt32(), Is.EqualTo(12345));
        Assert.That(status.GetProperty("health").GetProperty("ready").GetString(), Is.EqualTo("Serving"));
    }

    [Test]
    public async Task Http_port_refuses_plain_posts_to_grpc_methods()
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.HttpAddress };

        var response = await http.PostAsync("/cgtest.v1.Echo/Unary", new StringContent("{}"));

        // The HTTP port serves gRPC-Web, so the path exists; a body that is not gRPC is refused as such.
        Assert.That((int)response.StatusCode, Is.EqualTo(415));
    }
}
