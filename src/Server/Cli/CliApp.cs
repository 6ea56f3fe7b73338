using System.CommandLine;

namespace CharacterGen.Server.Cli;

/// <summary>The `charactergen` command line: one subcommand per file in this folder.</summary>
public static class CliApp
{
    public static async Task<int> RunAsync(string[] args, TextWriter? stdout = null, TextWriter? stderr = null)
    {
        var root = new RootCommand("CharacterGen: native ComfyUI-compatible diffusion workflows over gRPC.");
        root.Subcommands.Add(RunCommand.Create(RunCommand.DefaultCatalog, stdout, stderr));
        return await root.Parse(args).InvokeAsync();
    }
}
