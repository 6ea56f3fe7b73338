using System.Globalization;
using System.Text.Json;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Training;

/// <summary>
/// A resumable point of a LoRA training run, saved as one .safetensors file (written atomically): the LoRA tensors,
/// AdamW's moments, and in the metadata the step, the data position, the random generator's state, the losses so far
/// and the fingerprint of the run it belongs to. A checkpoint of another run (other options, model or data) is ignored.
/// </summary>
public sealed class TrainingCheckpoint : IDisposable
{
    private const string FingerprintKey = "charactergen.training.fingerprint";
    private const string StateKey = "charactergen.training.state";

    public required string Fingerprint { get; init; }
    public required int Step { get; init; }
    public required int Epoch { get; init; }
    public required int BatchIndex { get; init; }
    public required long OptimizerSteps { get; init; }
    public required byte[] GeneratorState { get; init; }
    public required IReadOnlyList<double> Losses { get; init; }
    public required double SmoothedLossState { get; init; }
    public required IReadOnlyList<Tensor> Parameters { get; init; }
    public required IReadOnlyList<Tensor> ExpAvg { get; init; }
    public required IReadOnlyList<Tensor> ExpAvgSq { get; init; }

    public void Save(string path)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        var tensors = new List<KeyValuePair<string, Tensor>>();
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        for (int i = 0; i < Parameters.Count; i++)
        {
            tensors.Add(new($"param.{i}", Parameters[i].Detach().To(Device.Cpu)));
            tensors.Add(new($"exp_avg.{i}", ExpAvg[i].To(Device.Cpu)));
            tensors.Add(new($"exp_avg_sq.{i}", ExpAvgSq[i].To(Device.Cpu)));
        }
        var state = new State(Step, Epoch, BatchIndex, OptimizerSteps, Convert.ToBase64String(GeneratorState),
            Losses.Select(l => l.ToString("R", CultureInfo.InvariantCulture)).ToArray(), SmoothedLossState.ToString("R", CultureInfo.InvariantCulture));
        SafetensorsTensors.Save(path, tensors, new Dictionary<string, string>
        {
            [FingerprintKey] = Fingerprint,
            [StateKey] = JsonSerializer.Serialize(state),
        });
    }

    /// <summary>The checkpoint at <paramref name="path"/> if it exists and belongs to the run <paramref name="fingerprint"/>, else null.</summary>
    public static TrainingCheckpoint? TryLoad(string path, string fingerprint)
    {
        if (!File.Exists(path)) return null;
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(FingerprintKey, out string? f) || f != fingerprint) return null;
        State s = JsonSerializer.Deserialize<State>(file.Metadata[StateKey]) ?? throw new InvalidDataException($"'{path}' has no training state");
        int n = file.Entries.Count / 3;
        Tensor[] Load(string prefix) => Enumerable.Range(0, n).Select(i => file.LoadTensor($"{prefix}.{i}").DetachFromScope()).ToArray();
        return new TrainingCheckpoint
        {
            Fingerprint = f,
            Step = s.Step,
            Epoch = s.Epoch,
            BatchIndex = s.BatchIndex,
            OptimizerSteps = s.OptimizerSteps,
            GeneratorState = Convert.FromBase64String(s.Generator),
            Losses = s.Losses.Select(l => double.Parse(l, CultureInfo.InvariantCulture)).ToArray(),
            SmoothedLossState = double.Parse(s.Smoothed, CultureInfo.InvariantCulture),
            Parameters = Load("param"),
            ExpAvg = Load("exp_avg"),
            ExpAvgSq = Load("exp_avg_sq"),
        };
    }

    /// <summary>Disposes the tensors a loaded checkpoint owns (not those of a live run passed in to be saved).</summary>
    public void Dispose()
    {
        foreach (Tensor t in Parameters.Concat(ExpAvg).Concat(ExpAvgSq)) t.Dispose();
    }

    private sealed record State(int Step, int Epoch, int BatchIndex, long OptimizerSteps, string Generator, string[] Losses, string Smoothed);
}
