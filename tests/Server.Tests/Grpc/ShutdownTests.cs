using CharacterGen.Server.Grpc;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class ShutdownTests
{
    private static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    [Test]
    public async Task Graceful_shutdown_lets_in_flight_calls_finish()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.CreateClient();
        var inFlight = client.UnaryAsync(EchoPaths.Hold, new EchoRequest { Text = "in-flight" });
        await server.Probe.Started("in-flight").WaitAsync(Hang);

        var health = server.Services.GetRequiredService<HealthState>();
        var stopping = server.StopAsync();
        await Task.Delay(Timeout.Infinite, health.ShuttingDown).ContinueWith(_ => { }).WaitAsync(Hang);
        Assert.That(health.TryGetStatus(HealthState.Ready, out var ready) ? ready : default, Is.EqualTo(ServingStatus.NotServing));
        Assert.That(stopping.IsCompleted, Is.False, "shutdown must wait for the in-flight call");
        server.Probe.Release("in-flight");

        var result = await inFlight.WaitAsync(Hang);
        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
        Assert.That(result.Single(EchoResponse.Parser).Text, Is.EqualTo("in-flight"));
        await stopping.WaitAsync(Hang);
    }
}
