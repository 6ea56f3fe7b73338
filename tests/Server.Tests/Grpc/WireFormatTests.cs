using CharacterGen.Server.Grpc;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class WireFormatTests
{
    [TestCase("1H", 36_000_000_000L)]
    [TestCase("2M", 1_200_000_000L)]
    [TestCase("3S", 30_000_000L)]
    [TestCase("200m", 2_000_000L)]
    [TestCase("250u", 2_500L)]
    [TestCase("1000n", 10L)]
    [TestCase("99999999S", 999_999_990_000_000L)]
    public void Timeout_units_parse(string header, long ticks)
    {
        Assert.That(GrpcTimeout.TryParse(header, out var timeout), Is.True);
        Assert.That(timeout.Ticks, Is.EqualTo(ticks));
    }

    [TestCase("")]
    [TestCase("S")]
    [TestCase("10")]
    [TestCase("10s")]
    [TestCase("-1S")]
    [TestCase("1.5S")]
    [TestCase("123456789S")]
    [TestCase(" 1S")]
    public void Malformed_timeouts_do_not_parse(string header) =>
        Assert.That(GrpcTimeout.TryParse(header, out _), Is.False);

    [TestCase(200)]
    [TestCase(86_400_000)]
    public void Formatted_timeouts_parse_back(int milliseconds)
    {
        var formatted = GrpcTimeout.Format(TimeSpan.FromMilliseconds(milliseconds));

        Assert.That(formatted.Length, Is.LessThanOrEqualTo(9));
        Assert.That(GrpcTimeout.TryParse(formatted, out var parsed), Is.True);
        Assert.That(parsed, Is.EqualTo(TimeSpan.FromMilliseconds(milliseconds)));
    }

    [TestCase("plain text", "plain text")]
    [TestCase("50%", "50%25")]
    [TestCase("é", "%C3%A9")]
    [TestCase("tab\there", "tab%09here")]
    [TestCase("emoji 😀 ok", "emoji %F0%9F%98%80 ok")]
    public void Status_messages_are_percent_encoded(string message, string encoded)
    {
        Assert.That(PercentEncoding.Encode(message), Is.EqualTo(encoded));
        Assert.That(PercentEncoding.Decode(encoded), Is.EqualTo(message));
    }

    [Test]
    public void Broken_percent_sequences_decode_as_they_are() =>
        Assert.That(PercentEncoding.Decode("100%% %zz %4 😀"), Is.EqualTo("100%% %zz %4 😀"));

    [Test]
    public void Binary_header_values_round_trip_padded_or_not()
    {
        byte[] value = [1, 2, 3, 4];

        var encoded = Base64.EncodeUnpadded(value);

        Assert.That(encoded, Does.Not.EndWith("="));
        Assert.That(Base64.Decode(encoded), Is.EqualTo(value));
        Assert.That(Base64.Decode(encoded + "=="), Is.EqualTo(value));
    }

    [TestCase("grpc-status")]
    [TestCase("content-type")]
    [TestCase("Upper-Case")]
    [TestCase("")]
    public void Reserved_or_malformed_metadata_names_are_refused(string name) =>
        Assert.That(() => new Metadata().Add(name, "v"), Throws.InstanceOf<ArgumentException>());

    [Test]
    public void Binary_metadata_needs_a_bin_suffix()
    {
        var metadata = new Metadata();

        Assert.That(() => metadata.Add("trace-bin", "v"), Throws.ArgumentException);
        Assert.That(() => metadata.AddBinary("trace", [1]), Throws.ArgumentException);
        metadata.AddBinary("trace-bin", [1, 2]);
        Assert.That(metadata.Single().Value, Is.EqualTo("AQI"));
    }

    [TestCase("application/grpc", true)]
    [TestCase("application/grpc+proto", true)]
    [TestCase("Application/GRPC; charset=utf-8", true)]
    [TestCase("application/grpc+json", false)]
    [TestCase("application/grpc-web", false)]
    [TestCase("application/json", false)]
    [TestCase(null, false)]
    public void Supported_content_types(string? contentType, bool supported) =>
        Assert.That(GrpcProtocol.IsSupportedContentType(contentType), Is.EqualTo(supported));

    [TestCase("identity,deflate,gzip", true)]
    [TestCase(" gzip ", true)]
    [TestCase("identity", false)]
    [TestCase("gzipx", false)]
    [TestCase("", false)]
    public void Accept_encoding_lists(string accept, bool gzip) =>
        Assert.That(MessageCompression.Accepts(accept, "gzip"), Is.EqualTo(gzip));

    [Test]
    public void Registry_refuses_a_handler_of_the_wrong_shape()
    {
        var check = global::Grpc.Health.V1.HealthReflection.Descriptor.Services[0].FindMethodByName("Watch");

        Assert.That(() => new GrpcServiceRegistry().AddUnary<global::Grpc.Health.V1.HealthCheckRequest, global::Grpc.Health.V1.HealthCheckResponse>(
            check, (_, _) => Task.FromResult(new global::Grpc.Health.V1.HealthCheckResponse())), Throws.ArgumentException);
    }

    [Test]
    public void Registry_refuses_duplicate_methods()
    {
        var registry = new GrpcServiceRegistry();
        registry.AddUnary<global::Grpc.Health.V1.HealthCheckRequest, global::Grpc.Health.V1.HealthCheckResponse>(
            "a.B/C", global::Grpc.Health.V1.HealthCheckRequest.Parser, (_, _) => Task.FromResult(new global::Grpc.Health.V1.HealthCheckResponse()));

        Assert.That(() => registry.AddUnary<global::Grpc.Health.V1.HealthCheckRequest, global::Grpc.Health.V1.HealthCheckResponse>(
            "/a.B/C", global::Grpc.Health.V1.HealthCheckRequest.Parser, (_, _) => Task.FromResult(new global::Grpc.Health.V1.HealthCheckResponse())),
            Throws.InvalidOperationException);
    }
}
