using System.Net;
using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Echo;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Rpc;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class StatusTests : ServerFixture
{
    [Test]
    public async Task Error_before_any_message_is_a_trailers_only_response()
    {
        var result = await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.RpcException, Message = "stop" });

        Assert.That(result.TrailersOnly, Is.True);
        Assert.That(result.HttpStatus, Is.EqualTo(HttpStatusCode.OK));
        Assert.That(result.Messages, Is.Empty);
        Assert.That(result.Status, Is.EqualTo(StatusCode.Aborted));
        Assert.That(result.StatusMessage, Is.EqualTo("stop"));
    }

    [Test]
    public async Task Error_after_messages_arrives_in_trailers()
    {
        var result = await Client.UnaryAsync(EchoPaths.Fail,
            new FailRequest { Kind = FailRequest.Types.Kind.RpcException, Message = "late", MessagesBefore = 2 });

        Assert.That(result.TrailersOnly, Is.False);
        Assert.That(result.Messages, Has.Count.EqualTo(2));
        Assert.That(result.Trailers!.GetValues(GrpcProtocol.Status).Single(), Is.EqualTo("10"));
        Assert.That(result.StatusMessage, Is.EqualTo("late"));
    }

    [Test]
    public async Task Unexpected_exception_becomes_internal_without_its_message()
    {
        const string secret = "/srv/charactergen/models/secret.safetensors at Foo.Bar()";
        var result = await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.PlainException, Message = secret });

        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
        Assert.That(result.StatusMessage, Does.Not.Contain("secret").And.Not.Contain("/srv").And.Not.Contain(" at "));
        Assert.That(result.StatusMessage, Does.StartWith("Internal error. Correlation id: "));
        Assert.That(result.Value(GrpcProtocol.StatusDetails), Is.Null);
    }

    [Test]
    public async Task Internal_error_is_logged_with_the_exception_and_correlation_id()
    {
        var key = Key();
        var result = await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.PlainException, Message = key });
        var correlationId = result.StatusMessage["Internal error. Correlation id: ".Length..].TrimEnd('.');

        var entry = Server.Logs.Entries.Single(e => e.Exception?.Message == key);
        Assert.That(entry.Level, Is.EqualTo(Microsoft.Extensions.Logging.LogLevel.Error));
        Assert.That(entry.Message, Does.Contain(correlationId));
    }

    [Test]
    public async Task Bad_request_details_decode_as_google_rpc_BadRequest()
    {
        var result = await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.BadRequest, Message = "invalid workflow" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.InvalidArgument));
        var rich = result.RichStatus!;
        Assert.That(rich.Code, Is.EqualTo((int)StatusCode.InvalidArgument));
        Assert.That(rich.Message, Is.EqualTo("invalid workflow"));
        var badRequest = rich.Details.Single().Unpack<BadRequest>();
        Assert.That(badRequest.FieldViolations.Select(v => v.Field), Is.EqualTo(new[] { "nodes[\"7\"].inputs.steps", "seed" }));
        Assert.That(badRequest.FieldViolations[0].Description, Is.EqualTo("must be between 1 and 150"));
    }

    [Test]
    public async Task Resource_exhausted_carries_retry_info()
    {
        var result = await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.RetryLater, Message = "queue full" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.ResourceExhausted));
        var retry = result.RichStatus!.Details.Single().Unpack<RetryInfo>();
        Assert.That(retry.RetryDelay.ToTimeSpan(), Is.EqualTo(TimeSpan.FromSeconds(3)));
    }

    [Test]
    public async Task Status_message_is_percent_encoded_on_the_wire()
    {
        var result = await Client.UnaryAsync(EchoPaths.Fail, new FailRequest { Kind = FailRequest.Types.Kind.RpcException, Message = "100% naïve ✓\nline" });

        Assert.That(result.Value(GrpcProtocol.Message), Is.EqualTo("100%25 na%C3%AFve %E2%9C%93%0Aline"));
        Assert.That(result.StatusMessage, Is.EqualTo("100% naïve ✓\nline"));
    }

    [Test]
    public async Task Unknown_service_is_unimplemented()
    {
        var result = await Client.UnaryAsync("/no.such.Service/Call", new EchoRequest());

        Assert.That(result.TrailersOnly, Is.True);
        Assert.That(result.Status, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(result.StatusMessage, Does.Contain("no.such.Service"));
    }

    [Test]
    public async Task Unknown_method_of_a_known_service_is_unimplemented()
    {
        var result = await Client.UnaryAsync("/cgtest.v1.Echo/NoSuchMethod", new EchoRequest());

        Assert.That(result.Status, Is.EqualTo(StatusCode.Unimplemented));
        Assert.That(result.StatusMessage, Does.Contain("NoSuchMethod"));
    }

    [Test]
    public async Task Non_grpc_content_type_gets_415()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest(), new CallOptions { ContentType = "application/json" });

        Assert.That(result.HttpStatus, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
        Assert.That(result.Status, Is.EqualTo(StatusCode.Internal));
    }

    [Test]
    public async Task Grpc_json_content_type_is_not_supported()
    {
        var result = await Client.UnaryAsync(EchoPaths.Unary, new EchoRequest(), new CallOptions { ContentType = "application/grpc+json" });

        Assert.That(result.HttpStatus, Is.EqualTo(HttpStatusCode.UnsupportedMediaType));
    }
}
