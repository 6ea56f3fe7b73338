using CharacterGen.Tensors;
using CharacterGen.Tensors.Nn;

namespace CharacterGen.Diffusion.Models.Vae;

/// <summary>
/// LDM autoencoder.py AutoencoderKL (in checkpoints under "first_stage_model."): encoder → quant_conv → a diagonal
/// Gaussian over the latent; post_quant_conv → decoder. Images are in [−1, 1]; latents are unscaled (the sampling side's
/// latent format applies SD's 0.18215).
/// </summary>
public sealed class AutoencoderKL : Module
{
    public AutoencoderKL(VaeConfig config)
    {
        Config = config;
        Encoder = Child("encoder", new VaeEncoder(config));
        Decoder = Child("decoder", new VaeDecoder(config));
        if (config.UseQuantConv)
        {
            QuantConv = Child("quant_conv", new Conv2d(2 * config.ZChannels, 2 * config.EmbedDim, 1));
            PostQuantConv = Child("post_quant_conv", new Conv2d(config.EmbedDim, config.ZChannels, 1));
        }
    }

    public VaeConfig Config { get; }
    public VaeEncoder Encoder { get; }
    public VaeDecoder Decoder { get; }
    /// <summary>Null when <see cref="VaeConfig.UseQuantConv"/> is false (the moments come straight from the encoder).</summary>
    public Conv2d? QuantConv { get; }
    public Conv2d? PostQuantConv { get; }

    /// <summary>
    /// The posterior's mean [B, embed_dim, H/8, W/8] for an image [B, 3, H, W] in [−1, 1] (H, W multiples of the
    /// down-scale factor). ComfyUI's VAEEncode uses the mean (since PR #8705). Result in the image's dtype.
    /// </summary>
    public Tensor Encode(Tensor image)
    {
        using var scope = Torch.NewScope();
        return Moments(image)[0].To(image.DType).MoveToOuterScope();
    }

    /// <summary>A sample mean + σ·ε of the posterior, ε drawn on the CPU from <paramref name="generator"/> (log-variance clamped to [−30, 20] as LDM).</summary>
    public Tensor EncodeSample(Tensor image, Generator generator)
    {
        using var scope = Torch.NewScope();
        Tensor[] m = Moments(image);
        Tensor std = (m[1].Clamp(-30, 20) * 0.5).Exp();
        Tensor noise = Torch.Randn(m[0].Shape, generator, m[0].DType, m[0].Device);
        return (m[0] + std * noise).To(image.DType).MoveToOuterScope();
    }

    /// <summary>Latent [B, embed_dim, h, w] → image [B, out_ch, 8h, 8w], roughly in [−1, 1] (not clamped), in the latent's dtype.</summary>
    public Tensor Decode(Tensor latent)
    {
        using var scope = Torch.NewScope();
        Tensor w = Decoder.ConvIn.Weight.Value;
        Tensor z = latent.To(w.Device, w.DType);
        if (PostQuantConv is not null) z = PostQuantConv.Forward(z);
        return Decoder.Forward(z).To(latent.DType).MoveToOuterScope();
    }

    private Tensor[] Moments(Tensor image)
    {
        Tensor w = Encoder.ConvIn.Weight.Value;
        Tensor h = Encoder.Forward(image.To(w.Device, w.DType));
        return (QuantConv is null ? h : QuantConv.Forward(h)).Chunk(2, 1);
    }
}
