using System.CommandLine;
using System.Reflection;
using CharacterGen.Tensors;

namespace CharacterGen.Server.Cli;

/// <summary>`charactergen version`: what this build is and what it runs on.</summary>
public static class VersionCommand
{
    public static Command Create(CliOutput output)
    {
        var command = new Command("version", "Print CharacterGen's version, libtorch's version, CPU capability, threads and CUDA devices.");
        command.SetAction(_ =>
        {
            TorchSetup.ConfigureThreads();
            string version = typeof(VersionCommand).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";
            output.Out.WriteLine($"CharacterGen {version.Split('+')[0]}");
            output.Out.WriteLine($"libtorch {Torch.LibTorchVersion}");
            output.Out.WriteLine($"cpu capability {Torch.CpuCapability}");
            output.Out.WriteLine($"native features [{string.Join(",", Torch.NativeBuildFeatures)}]");
            output.Out.WriteLine($"threads {Torch.Threads}");
            int devices = Cuda.DeviceCount;
            output.Out.WriteLine(devices == 0 ? "cuda none" : $"cuda {devices} device(s)");
            return 0;
        });
        return command;
    }
}
