using CharacterGen.Nodes.ModelCaching;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.ModelCaching;

/// <summary>Alias settings: validation messages, aliases.json, missing-file warnings.</summary>
public sealed class ModelAliasesTests
{
    [Test]
    public void Bad_settings_are_refused_naming_each_problem()
    {
        var errors = ModelAliases.Validate(new Dictionary<string, ModelAliasSettings>
        {
            ["x.safetensors"] = new() { Checkpoint = "a.safetensors" },
            ["escape"] = new() { Checkpoint = "../secret.safetensors", Loras = [new() { Name = "" }, new() { Name = "/etc/l.safetensors", StrengthClip = double.NaN }] },
        });
        Assert.That(errors, Has.Some.Contains("ModelAliases:x.safetensors: alias names must not end in"));
        Assert.That(errors, Has.Some.Contains("ModelAliases:escape:Checkpoint '../secret.safetensors' must be a name inside its folder"));
        Assert.That(errors, Has.Some.Contains("ModelAliases:escape:Loras:0:Name must not be empty"));
        Assert.That(errors, Has.Some.Contains("ModelAliases:escape:Loras:1:Name '/etc/l.safetensors'"));
        Assert.That(errors, Has.Some.Contains("ModelAliases:escape:Loras:1: strengths must be finite"));
    }

    [Test]
    public void Aliases_json_in_the_models_folder_is_read_and_missing_files_are_reported()
    {
        using var env = NodeTestEnvironment.Create();
        File.WriteAllText(Path.Combine(env.Models.Root, ModelAliases.FileName), """
            { "alice-v2": { "Checkpoint": "tiny.safetensors", "Loras": [{ "Name": "alice.safetensors", "StrengthModel": 0.8 }] } }
            """);
        ModelAliases aliases = ModelAliases.Load(env.Models.Root);
        ModelAlias alice = aliases.All.Single();
        Assert.That((alice.Name, alice.Checkpoint, alice.Loras.Single().Name, alice.Loras.Single().StrengthModel, alice.Loras.Single().StrengthClip),
            Is.EqualTo(("alice-v2", "tiny.safetensors", "alice.safetensors", 0.8, 1.0)));
        Assert.That(aliases.MissingFiles(env.Models), Is.EqualTo(new[] { "model alias 'alice-v2': no loras file named 'alice.safetensors'; searched loras/" }));
    }

    [Test]
    public void A_bad_aliases_json_is_refused_with_its_path()
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        Directory.CreateDirectory(env.Models.Root);
        File.WriteAllText(Path.Combine(env.Models.Root, ModelAliases.FileName), """{ "a": { "Checkpoint": "" } }""");
        var e = Assert.Throws<InvalidDataException>(() => ModelAliases.Load(env.Models.Root));
        Assert.That(e!.Message, Does.Contain(ModelAliases.FileName).And.Contain("ModelAliases:a:Checkpoint must not be empty"));
    }
}
