using System.Diagnostics;
using CharacterGen.Diffusion.Conditioning;
using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Sampling;
using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Bench;

/// <summary>
/// Seconds per SD1.5 sampler step (one UNet forward at CFG batch 2, 512×512 → 64×64 latent, full-size random weights,
/// float32 on this CPU) without and with one ControlNet (its encoder copy and hint encoder through the same contributor
/// the sampler uses). Plain and controlled steps alternate, so load changes on a shared machine hit both alike.
/// Usage: dotnet run -c Release --project bench/Diffusion.Bench -- controlnet [RUNS]
/// </summary>
internal static class ControlNetBench
{
    public static void Run(int runs)
    {
        Torch.Threads = Environment.ProcessorCount;
        using var unet = new UnetModel(UnetConfig.Sd15);
        BenchWeights.Initialize(unet, seed: 0);
        using var model = new ControlNetModel(UnetConfig.Sd15);
        BenchWeights.Initialize(model, seed: 1);
        using var net = new LoadedControlNet(model, ControlNetKeyLayout.LdmPrefixed, "bench", globalAveragePooling: false);
        var sampling = DiscreteModelSampling.Eps();
        var contributor = new ControlNetContributor(unet.Config, sampling);

        using var scope = Torch.NewScope();
        using var g = new Generator(1);
        Tensor x = Torch.Randn([2, 4, 64, 64], g), t = Torch.Full([2], 500), ctx = Torch.Randn([2, 77, 768], g);
        using var chain = new ControlChain(net, null, Torch.Rand([1, 3, 512, 512], g), 1.0, 0, 1, null);
        var entry = new ConditioningEntry(ctx.Narrow(0, 0, 1), null, Control: chain);
        var batch = new UnetBatch(x, t, ctx, null, Torch.Full([2], 5.0), [entry, entry], [0, 1], 1);

        double Step(bool controlled)
        {
            using var step = Torch.NewScope();
            var sw = Stopwatch.StartNew();
            UnetCall? call = null;
            if (controlled)
            {
                var builder = new UnetCallBuilder();
                contributor.Contribute(batch, builder);
                call = builder.Build(batch);
            }
            Tensor y = unet.Forward(x, t, ctx, null, call);
            sw.Stop();
            if (y.IsFinite().LogicalNot().Sum().Item() != 0) throw new InvalidOperationException("non-finite output");
            return sw.Elapsed.TotalSeconds;
        }

        using (Autograd.InferenceMode())
        {
            Step(false);
            Step(true); // warm-up
            double plain = 0, controlled = 0;
            for (int i = 0; i < runs; i++)
            {
                double p = Step(false), c = Step(true);
                Console.WriteLine($"run {i + 1}: plain {p:F2} s, with ControlNet {c:F2} s");
                plain += p;
                controlled += c;
            }
            plain /= runs;
            controlled /= runs;
            Console.WriteLine($"SD1.5 512×512 CFG batch 2, {runs} runs: plain {plain:F2} s/step, with one ControlNet {controlled:F2} s/step, "
                + $"overhead {(controlled / plain - 1) * 100:F0}% (goal ≤ 45%); ControlNet {model.ParameterCount() / 1e6:F0} M parameters");
        }
    }
}
