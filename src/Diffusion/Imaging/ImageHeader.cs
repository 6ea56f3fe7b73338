namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// What an image file's header says, before decoding: the decoded size (EXIF rotation applied), the channels
/// <see cref="ImageDecoder.Decode"/> will return (3, or 4 with alpha), and the file's own bands and bytes per sample,
/// which size libvips' decode buffer.
/// </summary>
public sealed record ImageHeader(int Width, int Height, int Channels, int FileBands, int BytesPerSample)
{
    public long Pixels => (long)Width * Height;
}
