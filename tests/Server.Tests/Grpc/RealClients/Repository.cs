namespace CharacterGen.Server.Tests.Grpc.RealClients;

/// <summary>Paths in the source tree, found from the test assembly's folder.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string Protos => Path.Combine(Root, "protos");

    public static string TestProtos => Path.Combine(Root, "tests", "Server.Tests", "Grpc", "Protos");

    public static string Clients => Path.Combine(Root, "tests", "clients");

    /// <summary>google/api/*.proto, copied from Google.Api.CommonProtos next to the test assembly.</summary>
    public static string ApiProtos => Path.Combine(TestContext.CurrentContext.TestDirectory, "api-protos");

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(TestContext.CurrentContext.TestDirectory); directory is not null; directory = directory.Parent)
            if (File.Exists(Path.Combine(directory.FullName, "CharacterGen.sln"))) return directory.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory.");
    }
}
