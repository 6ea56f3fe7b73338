using CharacterGen.Server.Cli;
using CharacterGen.Server.Hosting;

namespace CharacterGen.Server.Tests.Grpc.Hosting;

public sealed class ServerConfigurationTests
{
    private string _prefix = null!;
    private readonly List<string> _variables = [];
    private string? _file;

    [SetUp]
    public void UniquePrefix() => _prefix = $"CGTEST_{Guid.NewGuid():N}_";

    [TearDown]
    public void Clean()
    {
        foreach (var name in _variables) Environment.SetEnvironmentVariable(name, null);
        _variables.Clear();
        if (_file is not null) File.Delete(_file);
        _file = null;
    }

    [Test]
    public void Defaults_are_the_named_constants()
    {
        var options = Load();

        Assert.That(options.GrpcPort, Is.EqualTo(ServerOptions.DefaultGrpcPort));
        Assert.That(options.HttpPort, Is.EqualTo(ServerOptions.DefaultHttpPort));
        Assert.That(options.ListenAddress, Is.EqualTo("127.0.0.1"));
        Assert.That(options.Grpc.MaxReceiveMessageBytes, Is.EqualTo(4 * 1024 * 1024));
        Assert.That(options.Grpc.ResponseCompression, Is.EqualTo("identity"));
        Assert.That(options.Grpc.EnableReflection, Is.True);
        Assert.That(options.Auth.Enabled, Is.False);
    }

    [Test]
    public void Command_line_beats_environment_beats_json_file()
    {
        Json("""{ "GrpcPort": 1001, "HttpPort": 2001, "DataDir": "from-json", "Grpc": { "MaxSendMessageBytes": 1234 } }""");
        Env("GRPCPORT", "1002");
        Env("HTTPPORT", "2002");

        var options = Load(new() { ["GrpcPort"] = "1003" });

        Assert.That(options.GrpcPort, Is.EqualTo(1003));
        Assert.That(options.HttpPort, Is.EqualTo(2002));
        Assert.That(options.DataDir, Is.EqualTo("from-json"));
        Assert.That(options.Grpc.MaxSendMessageBytes, Is.EqualTo(1234));
    }

    [Test]
    public void Nested_and_list_settings_come_from_the_environment()
    {
        Env("GRPC__RESPONSECOMPRESSION", "gzip");
        Env("AUTH__APIKEYS__0", "first-key-0123456789");
        Env("AUTH__APIKEYS__1", "second-key-0123456789");
        Env("ASSETS__MAXUPLOADBYTES", "1000");

        var options = Load();

        Assert.That(options.Grpc.ResponseCompression, Is.EqualTo("gzip"));
        Assert.That(options.Auth.ApiKeys, Is.EqualTo(new[] { "first-key-0123456789", "second-key-0123456789" }));
        Assert.That(options.Assets.MaxUploadBytes, Is.EqualTo(1000));
    }

    [TestCase("GrpcPort", "70000", "GrpcPort must be between 0 and 65535")]
    [TestCase("GrpcPort", "fifty", "GrpcPort")]
    [TestCase("HttpPort", "50051", "must differ")]
    [TestCase("Grpc:MaxReceiveMessageBytes", "0", "MaxReceiveMessageBytes must be positive")]
    [TestCase("Grpc:ResponseCompression", "brotli", "ResponseCompression")]
    [TestCase("ListenAddress", "example.com", "ListenAddress")]
    [TestCase("ListenAddress", "0.0.0.0", "no authentication is configured")]
    [TestCase("Auth:ApiKeys:0", "short", "at least 16 characters")]
    [TestCase("Tls:CertificatePath", "/nonexistent/cert.pem", "does not exist")]
    [TestCase("ShutdownTimeoutSeconds", "-1", "ShutdownTimeoutSeconds")]
    [TestCase("ExtraModelPaths:0", "/nonexistent/extra_model_paths.yaml", "ExtraModelPaths: extra model paths file not found")]
    public void Bad_values_are_reported_clearly(string key, string value, string expected)
    {
        var error = Assert.Throws<ServerOptionsException>(() => Load(new() { [key] = value }))!;

        Assert.That(error.Errors, Has.Some.Contains(expected));
    }

    [Test]
    public void Secrets_are_never_echoed_in_errors()
    {
        var error = Assert.Throws<ServerOptionsException>(() => Load(new() { ["Auth:BearerTokens:0"] = "tiny secret" }))!;

        Assert.That(error.Message, Does.Not.Contain("tiny secret"));
    }

    [Test]
    public void Remote_binding_with_authentication_is_allowed()
    {
        var options = Load(new() { ["ListenAddress"] = "0.0.0.0", ["Auth:ApiKeys:0"] = "a-long-enough-api-key" });

        Assert.That(options.ListenAddress, Is.EqualTo("0.0.0.0"));
    }

    [Test]
    public void Missing_config_file_is_an_error()
    {
        Assert.Throws<ServerOptionsException>(() => ServerConfiguration.Load("/nonexistent/charactergen.json", new Dictionary<string, string?>(), _prefix));
    }

    [Test]
    public async Task Serve_exits_with_2_on_invalid_options()
    {
        var exitCode = await CliApp.RunAsync(["serve", "--grpc-port", "70000"]);

        Assert.That(exitCode, Is.EqualTo(ServeCommand.ExitInvalidOptions));
    }

    [Test]
    public void Serve_reports_the_bad_value()
    {
        var error = new StringWriter();

        var exitCode = ServeCommand.Run(null, new Dictionary<string, string?> { ["Grpc:ResponseCompression"] = "zstd" }, error);

        Assert.That(exitCode, Is.EqualTo(2));
        Assert.That(error.ToString(), Does.Contain("Grpc:ResponseCompression must be 'identity' or 'gzip' (got 'zstd')"));
    }

    private ServerOptions Load(Dictionary<string, string?>? commandLine = null) =>
        ServerConfiguration.Load(_file, commandLine ?? [], _prefix);

    private void Env(string name, string value)
    {
        _variables.Add(_prefix + name);
        Environment.SetEnvironmentVariable(_prefix + name, value);
    }

    private void Json(string json)
    {
        _file = Path.Combine(Path.GetTempPath(), $"cg-config-{Guid.NewGuid():N}.json");
        File.WriteAllText(_file, json);
    }
}
