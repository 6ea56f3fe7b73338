namespace CharacterGen.Server.Tests.Grpc.Support;

/// <summary>One default-configured server per fixture; tests needing other options start their own.</summary>
public abstract class ServerFixture
{
    protected TestServer Server { get; private set; } = null!;

    protected GrpcTestClient Client { get; private set; } = null!;

    [OneTimeSetUp]
    public async Task StartServer()
    {
        Server = await TestServer.StartAsync();
        Client = Server.CreateClient();
    }

    [OneTimeTearDown]
    public async Task StopServer()
    {
        Client.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>A key unique to the calling test, for the Echo probe.</summary>
    protected static string Key() => TestContext.CurrentContext.Test.FullName + "/" + Guid.NewGuid().ToString("N");

    /// <summary>Guards awaits that only hang if the code under test is broken (never a timing assertion).</summary>
    protected static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);
}
