using CharacterGen.Server.Grpc;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Tests.Grpc.Support;
using Grpc.Health.V1;
using Microsoft.Extensions.DependencyInjection;
using ServingStatus = Grpc.Health.V1.HealthCheckResponse.Types.ServingStatus;
using Domain = CharacterGen.Server.Grpc.Health.ServingStatus;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class HealthTests : ServerFixture
{
    private const string Check = "/grpc.health.v1.Health/Check";
    private const string Watch = "/grpc.health.v1.Health/Watch";

    private HealthState State => Server.Services.GetRequiredService<HealthState>();

    [TestCase("")]
    [TestCase("live")]
    [TestCase("ready")]
    [TestCase("charactergen.v1.Assets")]
    [TestCase("cgtest.v1.Echo")]
    public async Task Known_entries_are_serving(string service)
    {
        var result = await Client.UnaryAsync(Check, new HealthCheckRequest { Service = service });

        Assert.That(result.Single(HealthCheckResponse.Parser).Status, Is.EqualTo(ServingStatus.Serving));
    }

    [Test]
    public async Task Unknown_service_is_not_found()
    {
        var result = await Client.UnaryAsync(Check, new HealthCheckRequest { Service = "no.such.Service" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.NotFound));
    }

    [Test]
    public async Task Check_reflects_updates_to_the_health_state()
    {
        var name = Key();
        State.SetStatus(name, Domain.NotServing);

        var result = await Client.UnaryAsync(Check, new HealthCheckRequest { Service = name });

        Assert.That(result.Single(HealthCheckResponse.Parser).Status, Is.EqualTo(ServingStatus.NotServing));
    }

    [Test]
    public async Task List_returns_every_entry()
    {
        var result = await Client.UnaryAsync("/grpc.health.v1.Health/List", new HealthListRequest());

        var statuses = result.Single(HealthListResponse.Parser).Statuses;
        Assert.That(statuses.Keys, Is.SupersetOf(new[] { "", "live", "ready", "grpc.health.v1.Health", "charactergen.v1.Assets" }));
    }

    [Test]
    public async Task Watch_sends_the_current_status_then_each_change()
    {
        var name = Key();
        State.SetStatus(name, Domain.Serving);
        using var call = Client.Start(Watch);
        await call.SendAsync(new HealthCheckRequest { Service = name });
        call.CompleteRequest();

        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.Serving));
        State.SetStatus(name, Domain.NotServing);
        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.NotServing));
        State.SetStatus(name, Domain.Serving);
        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.Serving));
    }

    [Test]
    public async Task Watch_of_an_unknown_service_reports_service_unknown_and_stays_open()
    {
        var name = Key();
        using var call = Client.Start(Watch);
        await call.SendAsync(new HealthCheckRequest { Service = name });
        call.CompleteRequest();

        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.ServiceUnknown));
        State.SetStatus(name, Domain.Serving);
        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.Serving));
    }

    [Test]
    public async Task Shutdown_turns_watches_not_serving_then_ends_them_unavailable()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.CreateClient();
        using var call = client.Start(Watch);
        await call.SendAsync(new HealthCheckRequest { Service = "ready" });
        call.CompleteRequest();
        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.Serving));

        var stopping = server.StopAsync();

        Assert.That((await call.ReadAsync(HealthCheckResponse.Parser).WaitAsync(Hang))!.Status, Is.EqualTo(ServingStatus.NotServing));
        Assert.That((await call.FinishAsync().WaitAsync(Hang)).Status, Is.EqualTo(StatusCode.Unavailable));
        await stopping.WaitAsync(Hang);
    }
}
