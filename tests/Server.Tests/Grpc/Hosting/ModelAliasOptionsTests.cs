using CharacterGen.Server.Cli;
using CharacterGen.Server.Hosting;

namespace CharacterGen.Server.Tests.Grpc.Hosting;

/// <summary>The ModelAliases section: bound from the JSON file, refused at start-up (exit 2) when invalid.</summary>
public sealed class ModelAliasOptionsTests
{
    private string _file = null!;

    [SetUp]
    public void SetUp() => _file = Path.Combine(Path.GetTempPath(), $"cg-aliases-{Guid.NewGuid():N}.json");

    [TearDown]
    public void TearDown() => File.Delete(_file);

    [Test]
    public void Aliases_are_bound_from_the_json_file()
    {
        File.WriteAllText(_file, """
            { "ModelAliases": { "alice-v2": { "Checkpoint": "sd15.safetensors",
                "Loras": [{ "Name": "alice.safetensors", "StrengthModel": 0.8, "StrengthClip": 0.7 }, { "Name": "x/style.safetensors" }] } } }
            """);

        var options = ServerConfiguration.Load(_file, new Dictionary<string, string?>(), $"CGTEST_{Guid.NewGuid():N}_");

        var alice = options.ModelAliases["alice-v2"];
        Assert.That(alice.Checkpoint, Is.EqualTo("sd15.safetensors"));
        Assert.That(alice.Loras.Select(l => (l.Name, l.StrengthModel, l.StrengthClip)),
            Is.EqualTo(new[] { ("alice.safetensors", 0.8, 0.7), ("x/style.safetensors", 1.0, 1.0) }));
    }

    [Test]
    public void Serve_refuses_a_bad_alias_with_exit_2_and_says_why()
    {
        var error = new StringWriter();

        var exitCode = ServeCommand.Run(null, new Dictionary<string, string?>
        {
            ["ModelAliases:alice.safetensors:Checkpoint"] = "sd15.safetensors",
            ["ModelAliases:bob:Checkpoint"] = "../../etc/passwd",
        }, error);

        Assert.That(exitCode, Is.EqualTo(ServeCommand.ExitInvalidOptions));
        Assert.That(error.ToString(), Does.Contain("ModelAliases:alice.safetensors: alias names must not end in")
            .And.Contain("ModelAliases:bob:Checkpoint '../../etc/passwd' must be a name inside its folder"));
    }

    [Test]
    public void Serve_warns_about_alias_files_that_are_missing()
    {
        string models = Path.Combine(Path.GetTempPath(), $"cg-alias-models-{Guid.NewGuid():N}");
        Directory.CreateDirectory(Path.Combine(models, "checkpoints"));
        File.WriteAllBytes(Path.Combine(models, "checkpoints", "sd15.safetensors"), []);
        try
        {
            var options = new ServerOptions
            {
                ModelsDir = models,
                ModelAliases = new() { ["alice"] = new() { Checkpoint = "sd15.safetensors", Loras = [new() { Name = "alice.safetensors" }] } },
            };
            var error = new StringWriter();

            ServeCommand.WarnAboutMissingAliasFiles(options, error);

            Assert.That(error.ToString().Trim(), Is.EqualTo("warning: model alias 'alice': no loras file named 'alice.safetensors'; searched loras/, data:output/character-loras"));
        }
        finally
        {
            Directory.Delete(models, recursive: true);
        }
    }
}
