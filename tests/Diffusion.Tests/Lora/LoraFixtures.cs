using CharacterGen.Diffusion.Checkpoints;
using CharacterGen.Diffusion.Lora;
using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;
using CharacterGen.Tensors.Safetensors;

namespace CharacterGen.Diffusion.Tests.Lora;

/// <summary>One LoRA entry to write: its key and suffixes, the weight it must patch, and the values written.</summary>
public sealed record LoraEntry(string Key, string Up, string Down, LoraTarget Target, string Parameter, double? Alpha = 8, bool Mid = false,
    bool Dora = false);

/// <summary>Writes small LoRA files for a tiny checkpoint and computes their expected effect independently, in double.</summary>
internal static class LoraFixtures
{
    public const long Rank = 4;

    public static Parameter ParameterOf(StableDiffusionCheckpoint ckpt, LoraEntry e) =>
        (e.Target switch
        {
            LoraTarget.Unet => ckpt.Unet!.NamedParameters(),
            LoraTarget.ClipG => ckpt.ClipG!.NamedParameters(),
            _ => ckpt.Clip!.NamedParameters(),
        }).Single(p => p.Key == e.Parameter).Value;

    /// <summary>Writes the entries (random up/down, alpha, mid, dora_scale) and returns the tensors written, by name.</summary>
    public static Dictionary<string, float[]> Write(string path, StableDiffusionCheckpoint ckpt, IEnumerable<LoraEntry> entries, ulong seed,
        IEnumerable<KeyValuePair<string, Tensor>>? extra = null)
    {
        using var scope = Torch.NewScope();
        var tensors = new List<KeyValuePair<string, Tensor>>();
        ulong s = seed;
        foreach (LoraEntry e in entries)
        {
            long[] w = ParameterOf(ckpt, e).Shape;
            long[] ones = [.. w.Skip(2).Select(_ => 1L)];
            long[] down = e.Mid ? [Rank, w[1], .. ones] : [Rank, .. w.Skip(1)];
            tensors.Add(new(e.Key + e.Up, Torch.Randn([w[0], Rank, .. ones], s++) * 0.3));
            tensors.Add(new(e.Key + e.Down, Torch.Randn(down, s++) * 0.3));
            if (e.Mid) tensors.Add(new(e.Key + ".lora_mid.weight", Torch.Randn([Rank, Rank, .. w.Skip(2)], s++) * 0.3));
            if (e.Alpha is { } a) tensors.Add(new(e.Key + ".alpha", Torch.Scalar(a)));
            if (e.Dora) tensors.Add(new(e.Key + ".dora_scale", Torch.Randn([w[0], 1], s++).Abs() + 0.5));
        }
        if (extra is not null) tensors.AddRange(extra);
        SafetensorsTensors.Save(path, tensors);
        return tensors.ToDictionary(p => p.Key, p => p.Value.To(DType.Float32).ToArray<float>());
    }

    /// <summary>W + strength·alpha/rank·up@down (through mid; DoRA-rescaled), from the written values, in double.</summary>
    public static double[] Expected(float[] weight, long[] shape, LoraEntry e, Dictionary<string, float[]> t, double strength)
    {
        long outs = shape[0], rest = weight.Length / outs, k = shape.Length == 4 ? shape[2] * shape[3] : 1, ins = rest / k;
        float[] up = t[e.Key + e.Up], down = t[e.Key + e.Down];
        double scale = e.Alpha is { } a ? a / Rank : 1;
        var delta = new double[weight.Length];
        for (long o = 0; o < outs; o++)
            for (long c = 0; c < rest; c++)
            {
                double sum = 0;
                for (long i = 0; i < Rank; i++)
                {
                    if (!e.Mid) sum += up[o * Rank + i] * (double)down[i * rest + c];
                    else
                    {
                        float[] mid = t[e.Key + ".lora_mid.weight"];
                        long ch = c / k, pos = c % k;
                        for (long j = 0; j < Rank; j++) sum += up[o * Rank + i] * (double)mid[(i * Rank + j) * k + pos] * down[j * ins + ch];
                    }
                }
                delta[o * rest + c] = sum * scale;
            }
        var result = new double[weight.Length];
        if (!e.Dora)
        {
            for (int n = 0; n < result.Length; n++) result[n] = weight[n] + strength * delta[n];
            return result;
        }
        // DoRA on the output axis: (W + ΔW) · dora_scale / (‖W row‖ + eps), blended by strength.
        float[] magnitude = t[e.Key + ".dora_scale"];
        for (long o = 0; o < outs; o++)
        {
            double norm = Math.Sqrt(Enumerable.Range(0, (int)rest).Sum(c => (double)weight[o * rest + c] * weight[o * rest + c])) + 1.1920928955078125e-07;
            for (long c = 0; c < rest; c++)
            {
                long n = o * rest + c;
                double calc = (weight[n] + delta[n]) * magnitude[o] / norm;
                result[n] = weight[n] + strength * (calc - weight[n]);
            }
        }
        return result;
    }
}
