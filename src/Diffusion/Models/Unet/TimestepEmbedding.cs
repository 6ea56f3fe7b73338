using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Models.Unet;

/// <summary>Sinusoidal timestep features (LDM openaimodel.py timestep_embedding, cos half first).</summary>
public static class TimestepEmbedding
{
    /// <summary>
    /// [B] timesteps (any float or int dtype) → float32 [B, dim] = [cos(t·f_k), sin(t·f_k)], f_k = exp(−ln(maxPeriod)·k/half).
    /// </summary>
    public static Tensor Sinusoidal(Tensor timesteps, int dim, double maxPeriod = 10000)
    {
        using var scope = Torch.NewScope();
        int half = dim / 2;
        Tensor freqs = (Torch.Arange(0, half, device: timesteps.Device) * -Math.Log(maxPeriod) / half).Exp();
        Tensor args = timesteps.To(DType.Float32).Unsqueeze(1) * freqs.Unsqueeze(0);
        Tensor emb = Torch.Cat([args.Cos(), args.Sin()], -1);
        if (dim % 2 == 1) emb = F.Pad(emb, [0, 1]);
        return emb.MoveToOuterScope();
    }
}
