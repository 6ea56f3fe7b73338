using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CharacterGen.Diffusion.Models.Clip;
using CharacterGen.Diffusion.Models.Unet;
using CharacterGen.Diffusion.Models.Vae;

namespace CharacterGen.Diffusion.DemoModel;

/// <summary>
/// Everything that decides the demo model's weights besides the seed: network sizes, dataset size and the two training
/// stages. Its hash (with the seed) names a built model, so a changed recipe is rebuilt and an unchanged one is reused.
/// </summary>
public sealed record DemoModelRecipe
{
    /// <summary>Bump when the dataset drawing or the training code changes what a recipe produces.</summary>
    public int Revision { get; init; } = 1;

    /// <summary>Drawn scenes whose latents the UNet trains on (the VAE sees freshly drawn scenes every step).</summary>
    public int LatentImages { get; init; } = 1024;

    /// <summary>
    /// A colour and shape the UNet never sees together ("colour shape"): the VAE still learns to draw it, so a LoRA can
    /// teach it as a new concept — the LoRA-learns test and the character tests build on that.
    /// </summary>
    public string HeldOutConcept { get; init; } = "purple star";

    /// <summary>Whether <paramref name="scene"/> shows <see cref="HeldOutConcept"/>.</summary>
    public bool IsHeldOut(ShapeScene scene) => HeldOutConcept == $"{scene.Colour.Name} {scene.Shape.Word()}";

    /// <summary>
    /// KL-f8 with 64 channels at four levels, 4 latent channels. 64, not 32: with GroupNorm(32) a 32-channel layer
    /// normalises every channel on its own, which erases the flat colours these pictures are made of (measured: the
    /// 32-wide VAE was still washing colours out after 600 steps).
    /// </summary>
    public VaeConfig Vae { get; init; } = new() { Ch = 64, ChMult = [1, 1, 1, 1], NumResBlocks = 1 };

    /// <summary>An SD1-layout UNet for 8×8 latents: 64 and 128 channels (two per norm group), cross-attention at both levels.</summary>
    public UnetConfig Unet { get; init; } = new()
    {
        ModelChannels = 64, ChannelMult = [1, 2], NumResBlocks = 1, TransformerDepth = [1, 1], TransformerDepthMiddle = 1,
        ContextDim = 64, NumHeads = 4,
    };

    /// <summary>A small causal CLIP text encoder with frozen random weights; its vocabulary size is set from the tokenizer.</summary>
    public ClipTextConfig Clip { get; init; } = new()
    {
        HiddenSize = 64, NumHiddenLayers = 2, NumAttentionHeads = 4, IntermediateSize = 128,
    };

    public VaeTrainingOptions VaeTraining { get; init; } = new();
    public UnetTrainingOptions UnetTraining { get; init; } = new();

    public static DemoModelRecipe Default { get; } = new();

    /// <summary>A short hex digest of the recipe and seed (the cache key).</summary>
    public string Hash(ulong seed) => Digest(JsonSerializer.Serialize(this) + "|seed=" + seed);

    /// <summary>The digest of what decides the VAE stage alone (its stage cache key).</summary>
    public string VaeHash(ulong seed) =>
        Digest(JsonSerializer.Serialize(new { Revision, Vae, VaeTraining }) + "|seed=" + seed);

    private static string Digest(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
}
