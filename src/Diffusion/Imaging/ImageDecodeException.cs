namespace CharacterGen.Diffusion.Imaging;

/// <summary>The bytes are not an image we can decode (corrupt, truncated, or an unsupported format).</summary>
public sealed class ImageDecodeException(string message) : Exception(message);
