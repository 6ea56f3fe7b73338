using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Grpc.Health.V1;
using Grpc.Reflection.V1;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class AuthTests
{
    private const string ApiKey = "test-api-key-0123456789";
    private const string BearerToken = "test-bearer-token-0123456789";

    private TestServer _server = null!;
    private GrpcTestClient _client = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        _server = await TestServer.StartAsync(o => o with { Auth = new AuthOptions { ApiKeys = [ApiKey], BearerTokens = [BearerToken] } });
        _client = _server.CreateClient();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Test]
    public async Task Call_without_credentials_is_unauthenticated()
    {
        var result = await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest());

        Assert.That(result.TrailersOnly, Is.True);
        Assert.That(result.Status, Is.EqualTo(StatusCode.Unauthenticated));
    }

    [Test]
    public async Task Api_key_header_authenticates()
    {
        var result = await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "in" }, With("x-api-key", ApiKey));

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Bearer_token_authenticates()
    {
        var result = await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "in" }, With("authorization", "Bearer " + BearerToken));

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
    }

    [TestCase("x-api-key", "test-api-key-012345678")]
    [TestCase("x-api-key", "test-api-key-0123456789X")]
    [TestCase("x-api-key", BearerToken)]
    [TestCase("authorization", "Bearer " + ApiKey)]
    [TestCase("authorization", "Basic " + BearerToken)]
    [TestCase("authorization", BearerToken)]
    public async Task Wrong_credentials_are_unauthenticated(string header, string value)
    {
        var result = await _client.UnaryAsync(EchoPaths.Unary, new EchoRequest(), With(header, value));

        Assert.That(result.Status, Is.EqualTo(StatusCode.Unauthenticated));
    }

    [Test]
    public async Task Health_needs_no_credentials()
    {
        var check = await _client.UnaryAsync("/grpc.health.v1.Health/Check", new HealthCheckRequest());

        Assert.That(check.Single(HealthCheckResponse.Parser).Status, Is.EqualTo(HealthCheckResponse.Types.ServingStatus.Serving));
    }

    [Test]
    public async Task Reflection_needs_credentials()
    {
        var request = new ServerReflectionRequest { ListServices = "" };

        var anonymous = await _client.UnaryAsync("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", request);
        var authenticated = await _client.UnaryAsync("/grpc.reflection.v1.ServerReflection/ServerReflectionInfo", request, With("x-api-key", ApiKey));

        Assert.That(anonymous.Status, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(authenticated.Status, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Unknown_methods_are_not_revealed_to_unauthenticated_callers()
    {
        var anonymous = await _client.UnaryAsync("/secret.Admin/Wipe", new EchoRequest());
        var authenticated = await _client.UnaryAsync("/secret.Admin/Wipe", new EchoRequest(), With("x-api-key", ApiKey));

        Assert.That(anonymous.Status, Is.EqualTo(StatusCode.Unauthenticated));
        Assert.That(authenticated.Status, Is.EqualTo(StatusCode.Unimplemented));
    }

    [Test]
    public async Task Server_without_configured_credentials_needs_none()
    {
        await using var open = await TestServer.StartAsync();
        using var client = open.CreateClient();

        Assert.That((await client.UnaryAsync(EchoPaths.Unary, new EchoRequest())).Status, Is.EqualTo(StatusCode.OK));
    }

    private static CallOptions With(string header, string value) =>
        new() { Headers = new Dictionary<string, string> { [header] = value } };
}
