using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class DeadlineAndCancellationTests : ServerFixture
{
    [Test]
    public async Task Expired_deadline_ends_the_call_with_deadline_exceeded_and_cancels_the_handler()
    {
        var key = Key();

        var result = await Client.UnaryAsync(EchoPaths.WaitForCancellation, new EchoRequest { Text = key }, new CallOptions { Timeout = "200m" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.DeadlineExceeded));
        Assert.That(result.Messages, Is.Empty);
        await Server.Probe.CancellationObserved(key).WaitAsync(Hang);
    }

    [Test]
    public async Task Deadline_after_streamed_messages_arrives_in_trailers()
    {
        // The deadline must fire after one echo round trip: start at 1 s and lengthen it when a busy machine was slower
        // (the outcome is asserted for the first call whose echo came back before its deadline).
        foreach (var timeout in new[] { "1S", "4S", "16S" })
        {
            var key = Key();
            using var call = Client.Start(EchoPaths.Duplex, new CallOptions { Timeout = timeout });
            await call.SendAsync(new EchoRequest { Text = key });
            if (await call.ReadAsync(EchoResponse.Parser).WaitAsync(Hang) is not { } echoed) continue; // the deadline came first
            Assert.That(echoed.Text, Is.EqualTo(key));

            // The client never half-closes: only the deadline ends this call.
            var result = await call.FinishAsync().WaitAsync(Hang);

            Assert.That(result.TrailersOnly, Is.False);
            Assert.That(result.Status, Is.EqualTo(StatusCode.DeadlineExceeded));
            return;
        }
        Assert.Fail("no echo came back before a 16 s deadline");
    }

    [Test]
    public async Task Generous_deadline_does_not_disturb_a_fast_call()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "quick" }, new CallOptions { Timeout = "30S" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
    }

    [TestCase("1H")]
    [TestCase("99999999H")]
    [TestCase("5000000u")]
    public async Task Any_well_formed_timeout_unit_is_accepted(string timeout)
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest(), new CallOptions { Timeout = timeout });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
    }

    [TestCase("soon")]
    [TestCase("123456789S")]
    [TestCase("10x")]
    public async Task Malformed_timeout_is_rejected(string timeout)
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest(), new CallOptions { Timeout = timeout });

        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
        Assert.That(result.StatusMessage, Does.Contain("grpc-timeout"));
    }

    [Test]
    public async Task Client_cancel_fires_the_handlers_cancellation_token()
    {
        var key = Key();
        using var call = Client.Start(EchoPaths.WaitForCancellation);
        await call.SendAsync(new EchoRequest { Text = key });
        call.CompleteRequest();
        await Server.Probe.Started(key).WaitAsync(Hang);

        call.Cancel();

        await Server.Probe.CancellationObserved(key).WaitAsync(Hang);
    }

    [Test]
    public async Task Dropped_connection_fires_the_handlers_cancellation_token()
    {
        var key = Key();
        using (var client = Server.CreateClient())
        {
            var call = client.Start(EchoPaths.WaitForCancellation);
            await call.SendAsync(new EchoRequest { Text = key });
            call.CompleteRequest();
            await Server.Probe.Started(key).WaitAsync(Hang);
        } // disposing the HttpClient drops the connection

        await Server.Probe.CancellationObserved(key).WaitAsync(Hang);
    }

    [Test]
    public async Task Server_keeps_serving_after_cancelled_calls()
    {
        var key = Key();
        var cancelled = await Client.UnaryAsync(EchoPaths.WaitForCancellation, new EchoRequest { Text = key }, new CallOptions { Timeout = "50m" });
        Assert.That(cancelled.Status, Is.EqualTo(StatusCode.DeadlineExceeded));
        await Server.Probe.CancellationObserved(key).WaitAsync(Hang);

        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest { Text = "after" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.OK));
    }
}
