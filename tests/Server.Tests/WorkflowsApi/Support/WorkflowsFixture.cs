namespace CharacterGen.Server.Tests.WorkflowsApi.Support;

/// <summary>One <see cref="WorkflowServer"/> per fixture; after each test every gate opens and every unfinished job is cancelled.</summary>
public abstract class WorkflowsFixture
{
    protected WorkflowServer Server { get; private set; } = null!;

    protected WorkflowsClient Workflows { get; private set; } = null!;

    /// <summary>Guards awaits that only hang if the code under test is broken (never a timing assertion).</summary>
    protected static readonly TimeSpan Hang = TimeSpan.FromSeconds(20);

    [OneTimeSetUp]
    public async Task StartServer()
    {
        Server = await WorkflowServer.StartAsync();
        Workflows = new WorkflowsClient(Server.Client);
    }

    [TearDown]
    public Task Reset() => Server.ResetAsync();

    [OneTimeTearDown]
    public async Task StopServer() => await Server.DisposeAsync();

    /// <summary>A gate key unique to the calling test.</summary>
    protected static string Key() => "gate-" + Guid.NewGuid().ToString("N");
}
