using System.Diagnostics;

namespace CharacterGen.Diffusion.Tests.Bench;

/// <summary>
/// Keeps the GPU run (bench/gpu) and the Dockerfile's mirror from rotting between the rare GPU sessions: the scripts
/// parse, and run.sh's dry run finds every file and tool it needs and plans every part. The real rehearsal
/// (`bench/gpu/run.sh --cpu`, minutes) is run by hand; see bench/gpu/README.md.
/// </summary>
public sealed class GpuRunScriptTests
{
    private static readonly string Root = FindRoot();

    [TestCase("bench/gpu/run.sh")]
    [TestCase("bench/gpu/prepare.sh")]
    [TestCase("scripts/docker-build.sh")]
    [TestCase("scripts/docker-mirror.sh")]
    public void Script_parses(string script)
    {
        var (code, output) = Run("bash", "-n", Path.Combine(Root, script));

        Assert.That(code, Is.EqualTo(0), output);
    }

    [Test]
    public void Cpu_dry_run_plans_every_part()
    {
        var (code, output) = Run(Path.Combine(Root, "bench/gpu/run.sh"), "--cpu", "--dry-run");

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("CG_TORCH_FROM_PYTHON=1"));
        foreach (string dtype in new[] { "float32", "bfloat16" })
            Assert.That(output, Does.Contain($"cpu {dtype}\n").And.Contain($"compare_ops.py").And.Contain($"ops-{dtype}.json"));
        Assert.That(output, Does.Contain("torch_unet.py").And.Contain("--config=sd15-tiny").And.Contain("--config=sdxl-tiny"));
        Assert.That(output, Does.Contain("gpu unet sd15-tiny 8").And.Contain("gpu unet sdxl-tiny 8"));
        Assert.That(output, Does.Contain("dry run: ready (cpu)"));
    }

    [Test]
    public void Gpu_dry_run_uses_the_issue_sizes()
    {
        var (code, output) = Run(Path.Combine(Root, "bench/gpu/run.sh"), "--dry-run");

        Assert.That(code, Is.EqualTo(0), output);
        Assert.That(output, Does.Contain("cuda:0 float16\n").And.Contain("cuda:0 bfloat16\n"));
        Assert.That(output, Does.Contain("gpu unet sd15 64 ").And.Contain("gpu unet sdxl 128 "));
        Assert.That(output, Does.Contain("float16,bfloat16 30"));
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file, args)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Root,
        };
        using var p = Process.Start(psi)!;
        Task<string> err = p.StandardError.ReadToEndAsync();
        string output = p.StandardOutput.ReadToEnd();
        if (!p.WaitForExit(60_000))
        {
            p.Kill(entireProcessTree: true);
            Assert.Fail($"{file} did not finish in 60 s");
        }
        return (p.ExitCode, output + err.Result);
    }

    private static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("no CharacterGen.sln above the test binaries");
    }
}
