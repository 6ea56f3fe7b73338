using System.CommandLine;
using CharacterGen.Diffusion.RandomWeights;

namespace CharacterGen.Server.Cli;

/// <summary>
/// `charactergen make-test-checkpoint --family sd15|sdxl --out FILE.safetensors [--seed N]`: a deterministic tiny
/// random-weight checkpoint plus its small tokenizer in FILE.tokenizer/, so `run` works with a models folder holding
/// nothing else (demos, smoke tests). The images it makes are noise-like: the weights are random.
/// </summary>
public static class MakeTestCheckpointCommand
{
    public static readonly IReadOnlyList<string> Families = ["sd15", "sdxl"];

    public static Command Create(CliOutput output)
    {
        var family = new Option<string>("--family") { Description = "Model family (sd15 or sdxl).", DefaultValueFactory = _ => "sd15" };
        family.AcceptOnlyFromAmong([.. Families]);
        var file = new Option<FileInfo>("--out") { Description = "The checkpoint file to write (.safetensors).", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Seed of the random weights.", DefaultValueFactory = _ => 0 };

        var command = new Command("make-test-checkpoint", "Write a tiny random-weight checkpoint and its tokenizer, for demos and tests.");
        command.Options.Add(family);
        command.Options.Add(file);
        command.Options.Add(seed);
        command.SetAction(parseResult =>
        {
            FileInfo target = parseResult.GetValue(file)!;
            if (!target.Name.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase))
            {
                output.Error.WriteLine($"error: --out must name a .safetensors file, not '{target.Name}'");
                return 2;
            }
            TorchSetup.ConfigureThreads();
            ulong weightsSeed = parseResult.GetValue(seed);
            var written = parseResult.GetValue(family) == "sdxl"
                ? TinyModelWriter.WriteSdxl(target.FullName, weightsSeed)
                : TinyModelWriter.WriteSd15(target.FullName, weightsSeed);
            output.Out.WriteLine($"checkpoint {written.Checkpoint}");
            output.Out.WriteLine($"tokenizer {written.TokenizerFolder} ({written.VocabularySize} tokens)");
            return 0;
        });
        return command;
    }
}
