using System.CommandLine;
using CharacterGen.Diffusion.DemoModel;

namespace CharacterGen.Server.Cli;

/// <summary>
/// `charactergen make-demo-model --out MODELS [--seed N]`: trains the small shapes model on a drawn dataset and writes
/// MODELS/checkpoints/demo-shapes.safetensors with its tokenizer; a second call with the same recipe and seed returns at
/// once.
/// </summary>
public static class MakeDemoModelCommand
{
    public static Command Create(CliOutput output)
    {
        var folder = new Option<DirectoryInfo>("--out") { Description = "The models folder to write checkpoints/demo-shapes.safetensors into.", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the dataset and the training.", DefaultValueFactory = _ => 0 };
        var quiet = new Option<bool>("--quiet") { Description = "Print only the checkpoint's path." };

        var command = new Command("make-demo-model",
            "Train the small demo model (coloured shapes, 64×64) on a drawn dataset; cached, so a second call returns at once.");
        command.Options.Add(folder);
        command.Options.Add(seed);
        command.Options.Add(quiet);
        command.SetAction(parseResult =>
        {
            TorchSetup.ConfigureThreads();
            bool silent = parseResult.GetValue(quiet);
            DemoModelFiles files = DemoModelBuilder.Build(parseResult.GetValue(folder)!.FullName, parseResult.GetValue(seed),
                log: silent ? null : line => output.Error.WriteLine(line));
            if (!silent)
                output.Out.WriteLine(files.Cached ? $"up to date (recipe {files.RecipeHash})" : $"trained in {files.Elapsed.TotalSeconds:F0} s (recipe {files.RecipeHash})");
            output.Out.WriteLine($"checkpoint {files.Checkpoint}");
            if (!silent) output.Out.WriteLine($"tokenizer {files.TokenizerFolder}");
            return 0;
        });
        return command;
    }
}
