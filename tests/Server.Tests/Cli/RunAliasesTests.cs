using System.CommandLine;
using CharacterGen.Server.Cli;

namespace CharacterGen.Server.Tests.Cli;

/// <summary>`run` reads model aliases from the models folder's aliases.json; an invalid one is refused with exit 2.</summary>
public sealed class RunAliasesTests
{
    [Test]
    public async Task A_bad_aliases_json_is_refused_with_exit_2_naming_the_file()
    {
        string dir = Path.Combine(Path.GetTempPath(), "cg-run-aliases-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path.Combine(dir, "models"));
        try
        {
            File.WriteAllText(Path.Combine(dir, "models", "aliases.json"), """{ "alice": { "Checkpoint": "/abs.safetensors" } }""");
            string workflow = Path.Combine(dir, "w.json");
            File.WriteAllText(workflow, "{}");
            var stdout = new StringWriter();
            var stderr = new StringWriter();
            var root = new RootCommand("test");
            root.Subcommands.Add(RunCommand.Create(RunCommand.DefaultCatalog, stdout, stderr));

            int exit = await root.Parse(["run", workflow, "--models", Path.Combine(dir, "models"), "--out", Path.Combine(dir, "out")])
                .InvokeAsync(new InvocationConfiguration { Output = stdout, Error = stderr });

            Assert.That(exit, Is.EqualTo(RunCommand.InvalidWorkflow));
            Assert.That(stderr.ToString(), Does.Contain("aliases.json").And.Contain("ModelAliases:alice:Checkpoint '/abs.safetensors'"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
