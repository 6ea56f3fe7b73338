using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Microsoft.Extensions.Logging;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class LoggingTests : ServerFixture
{
    [Test]
    public async Task Each_call_logs_one_structured_line_with_method_status_and_duration()
    {
        var key = Key();
        await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.RpcException, Message = key });

        var lines = Server.Logs.Entries
            .Where(e => e.Category == typeof(GrpcCallMiddleware).FullName && (string?)e.State.GetValueOrDefault("Method") == EchoPaths.Fail
                        && e.State.GetValueOrDefault("StatusCode") is StatusCode.Aborted)
            .ToList();

        Assert.That(lines, Has.Count.EqualTo(1));
        Assert.That(lines[0].Level, Is.EqualTo(LogLevel.Information));
        Assert.That(lines[0].State["ElapsedMs"], Is.TypeOf<double>());
        Assert.That(lines[0].Message, Does.StartWith($"gRPC {EchoPaths.Fail} Aborted in "));
    }

    [Test]
    public async Task Unknown_method_is_logged_too()
    {
        await Client.UnaryAsync("/logged.Nowhere/Call", new EchoRequest());

        Assert.That(Server.Logs.Entries.Count(e => (string?)e.State.GetValueOrDefault("Method") == "/logged.Nowhere/Call"), Is.EqualTo(1));
    }
}
