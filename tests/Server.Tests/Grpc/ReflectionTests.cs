using CharacterGen.Server.Grpc;
using CharacterGen.Server.Tests.Grpc.Support;
using Google.Protobuf;
using Google.Protobuf.Reflection;
using Grpc.Reflection.V1;

namespace CharacterGen.Server.Tests.Grpc;

public sealed class ReflectionTests : ServerFixture
{
    private const string V1 = "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo";
    private const string V1Alpha = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo";

    [TestCase(V1)]
    [TestCase(V1Alpha)]
    public async Task List_services_names_every_registered_service(string method)
    {
        var response = await AskAsync(method, new ServerReflectionRequest { ListServices = "" });

        Assert.That(response.ListServicesResponse.Service.Select(s => s.Name), Is.EquivalentTo(new[]
        {
            "cgtest.v1.Echo",
            "charactergen.v1.Assets",
            "charactergen.v1.Characters",
            "charactergen.v1.Models",
            "charactergen.v1.Workflows",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        }));
    }

    [TestCase("charactergen.v1.Assets")]
    [TestCase("charactergen.v1.Assets.Upload")]
    [TestCase("charactergen.v1.AssetInfo")]
    public async Task File_containing_symbol_returns_the_file_and_its_imports(string symbol)
    {
        var response = await AskAsync(V1, new ServerReflectionRequest { FileContainingSymbol = symbol });

        var files = Build(response.FileDescriptorResponse.FileDescriptorProto);
        Assert.That(files[0].Name, Is.EqualTo("charactergen/v1/assets.proto"));
        // Its imports (the google.api.http rules bring annotations.proto, http.proto and descriptor.proto).
        Assert.That(files.Select(f => f.Name), Is.SupersetOf(new[] { "google/protobuf/timestamp.proto", "google/api/annotations.proto", "google/api/http.proto" }));
        var assets = files[0].Services.Single();
        Assert.That(assets.FullName, Is.EqualTo("charactergen.v1.Assets"));
        Assert.That(assets.FindMethodByName("Upload").IsClientStreaming, Is.True);
        Assert.That(assets.FindMethodByName("Download").IsServerStreaming, Is.True);
    }

    [Test]
    public async Task Nested_types_are_found()
    {
        var response = await AskAsync(V1, new ServerReflectionRequest { FileContainingSymbol = "grpc.health.v1.HealthCheckResponse.ServingStatus" });

        Assert.That(Build(response.FileDescriptorResponse.FileDescriptorProto)[0].Name, Is.EqualTo("grpc/health/v1/health.proto"));
    }

    [Test]
    public async Task File_by_filename_returns_that_file()
    {
        var response = await AskAsync(V1Alpha, new ServerReflectionRequest { FileByFilename = "cgtest/v1/echo.proto" });

        var file = Build(response.FileDescriptorResponse.FileDescriptorProto).Single();
        Assert.That(file.Services.Single().FullName, Is.EqualTo("cgtest.v1.Echo"));
    }

    [Test]
    public async Task Unknown_symbol_is_an_error_response_not_a_failed_call()
    {
        var response = await AskAsync(V1, new ServerReflectionRequest { FileContainingSymbol = "no.Such" });

        Assert.That(response.ErrorResponse.ErrorCode, Is.EqualTo((int)StatusCode.NotFound));
    }

    [Test]
    public async Task Extension_requests_are_an_unimplemented_error_response_not_a_failed_call()
    {
        // Grpc.Reflection does not serve extension queries (protos here declare no extensions).
        var response = await AskAsync(V1, new ServerReflectionRequest { AllExtensionNumbersOfType = "charactergen.v1.AssetInfo" });

        Assert.That(response.ErrorResponse.ErrorCode, Is.EqualTo((int)StatusCode.Unimplemented));
    }

    [Test]
    public async Task One_stream_answers_many_requests_in_order()
    {
        using var call = Client.Start(V1);
        await call.SendAsync(new ServerReflectionRequest { Host = "h", ListServices = "" });
        var first = await call.ReadAsync(ServerReflectionResponse.Parser).WaitAsync(Hang);
        await call.SendAsync(new ServerReflectionRequest { FileContainingSymbol = "cgtest.v1.Echo" });
        var second = await call.ReadAsync(ServerReflectionResponse.Parser).WaitAsync(Hang);
        call.CompleteRequest();

        Assert.That(first!.MessageResponseCase, Is.EqualTo(ServerReflectionResponse.MessageResponseOneofCase.ListServicesResponse));
        Assert.That(second!.MessageResponseCase, Is.EqualTo(ServerReflectionResponse.MessageResponseOneofCase.FileDescriptorResponse));
        Assert.That((await call.FinishAsync()).Status, Is.EqualTo(StatusCode.OK));
    }

    [Test]
    public async Task Reflection_can_be_disabled()
    {
        await using var server = await TestServer.StartAsync(o => o with { Grpc = o.Grpc with { EnableReflection = false } });
        using var client = server.CreateClient();

        var result = await client.UnaryAsync(V1, new ServerReflectionRequest { ListServices = "" });

        Assert.That(result.Status, Is.EqualTo(StatusCode.Unimplemented));
    }

    private async Task<ServerReflectionResponse> AskAsync(string method, ServerReflectionRequest request)
    {
        var result = await Client.UnaryAsync(method, request);
        Assert.That(result.Status, Is.EqualTo(StatusCode.OK), result.StatusMessage);
        return result.Single(ServerReflectionResponse.Parser);
    }

    /// <summary>Builds descriptors from the returned bytes, as a reflection client does: proves they are complete.</summary>
    private static IReadOnlyList<FileDescriptor> Build(IEnumerable<ByteString> protos)
    {
        var list = protos.ToList();
        // BuildFromByteStrings wants dependencies before dependants; the server sends the file first.
        list.Reverse();
        var built = FileDescriptor.BuildFromByteStrings(list);
        return built.Reverse().ToList();
    }
}
