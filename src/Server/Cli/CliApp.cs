using System.CommandLine;

namespace CharacterGen.Server.Cli;

/// <summary>The `charactergen` command line: one subcommand per file in this folder.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var output = new CliOutput(stdout ?? Console.Out, stderr ?? Console.Error);
        var root = new RootCommand("CharacterGen: native ComfyUI-compatible diffusion workflows over gRPC.");
        root.Subcommands.Add(VersionCommand.Create(output));
        root.Subcommands.Add(InspectCommand.Create(output));
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(RunCommand.Create(RunCommand.DefaultCatalog, output.Out, output.Error));
        root.Subcommands.Add(MakeTestCheckpointCommand.Create(output));
        root.Subcommands.Add(HealthCommand.Create(output));
        root.Subcommands.Add(MakeDemoModelCommand.Create(output));
        var config = new InvocationConfiguration { Output = output.Out, Error = output.Error };
        return await root.Parse(args).InvokeAsync(config);
    }
}

/// <summary>Where a command writes: standard output for results, standard error for problems.</summary>
public sealed record CliOutput(TextWriter Out, TextWriter Error);
