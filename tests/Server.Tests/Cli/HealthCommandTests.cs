using CharacterGen.Server.Cli;
using CharacterGen.Server.Grpc.Health;
using CharacterGen.Server.Tests.Grpc.Support;
using Microsoft.Extensions.DependencyInjection;

namespace CharacterGen.Server.Tests.Cli;

/// <summary>`charactergen health`, the Dockerfile's HEALTHCHECK probe, against a real server.</summary>
public sealed class HealthCommandTests : ServerFixture
{
    private static (CliOutput Output, StringWriter Out, StringWriter Error) Capture()
    {
        var o = new StringWriter();
        var e = new StringWriter();
        return (new CliOutput(o, e), o, e);
    }

    [Test]
    public async Task A_serving_server_exits_0()
    {
        var (output, stdout, _) = Capture();

        int code = await HealthCommand.RunAsync(Server.GrpcAddress.ToString(), "", 10, output, default);

        Assert.That(code, Is.EqualTo(0));
        Assert.That(stdout.ToString().Trim(), Is.EqualTo("SERVING"));
    }

    [Test]
    public async Task A_service_marked_not_serving_exits_1()
    {
        string name = Key();
        Server.Services.GetRequiredService<HealthState>().SetStatus(name, ServingStatus.NotServing);
        var (output, stdout, _) = Capture();

        int code = await HealthCommand.RunAsync(Server.GrpcAddress.ToString(), name, 10, output, default);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stdout.ToString().Trim(), Is.EqualTo("NOT_SERVING"));
    }

    [Test]
    public async Task An_unknown_service_exits_1_naming_the_status()
    {
        var (output, _, stderr) = Capture();

        int code = await HealthCommand.RunAsync(Server.GrpcAddress.ToString(), "no.such.Service", 10, output, default);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr.ToString(), Does.Contain("grpc-status 5"));
    }

    [Test]
    public async Task No_server_exits_1()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        int port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop(); // a port nobody listens on
        var (output, _, stderr) = Capture();

        int code = await HealthCommand.RunAsync($"http://127.0.0.1:{port}", "", 10, output, default);

        Assert.That(code, Is.EqualTo(1));
        Assert.That(stderr.ToString(), Does.StartWith("charactergen health:"));
    }

    [Test]
    public async Task A_malformed_address_exits_2()
    {
        var (output, _, stderr) = Capture();

        int code = await HealthCommand.RunAsync("localhost:50051", "", 1, output, default);

        Assert.That(code, Is.EqualTo(2));
        Assert.That(stderr.ToString(), Does.Contain("--address"));
    }
}
