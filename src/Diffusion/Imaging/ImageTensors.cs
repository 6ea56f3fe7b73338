using CharacterGen.Tensors;

namespace CharacterGen.Diffusion.Imaging;

/// <summary>
/// ComfyUI's image conventions: IMAGE is float32 [B, H, W, 3] in 0..1, MASK is float32 [B, H, W] where 1 marks the
/// area to change. Pixels go in as value/255 and come out as clip(255·v, 0, 255) truncated to a byte (numpy astype).
/// </summary>
public static class ImageTensors
{
    /// <summary>
    /// The RGB image as [1, H, W, 3] and, as LoadImage does, the mask 1 − alpha ([1, H, W]), or a 64×64 zero mask
    /// when the image has no alpha channel.
    /// </summary>
    public static (Tensor Image, Tensor Mask) ToImageAndMask(DecodedImage decoded)
    {
        using var scope = Torch.NewScope();
        Tensor pixels = Torch.FromArray<byte>(decoded.Pixels, [1, decoded.Height, decoded.Width, decoded.Channels])
            .To(DType.Float32) / 255.0;
        Tensor image = decoded.Channels switch
        {
            1 => pixels.Expand(1, decoded.Height, decoded.Width, 3).Contiguous(),
            3 => pixels,
            _ => pixels.Narrow(3, 0, 3).Contiguous(),
        };
        Tensor mask = decoded.HasAlpha
            ? 1.0 - pixels.Select(3, 3)
            : Torch.Zeros([1, 64, 64]);
        return (image.MoveToOuterScope(), mask.MoveToOuterScope());
    }

    /// <summary>One channel of the image as a MASK [1, H, W] (LoadImageMask): alpha is inverted (1 − a), colours are not.</summary>
    public static Tensor ChannelMask(DecodedImage decoded, string channel)
    {
        using var scope = Torch.NewScope();
        int index = channel switch
        {
            "red" => 0,
            "green" => 1,
            "blue" => 2,
            "alpha" => 3,
            _ => throw new ArgumentException($"channel must be alpha, red, green or blue, not '{channel}'"),
        };
        Tensor pixels = Torch.FromArray<byte>(decoded.Pixels, [1, decoded.Height, decoded.Width, decoded.Channels]).To(DType.Float32) / 255.0;
        Tensor mask;
        if (index == 3) mask = decoded.HasAlpha ? 1.0 - pixels.Select(3, 3) : Torch.Zeros([1, 64, 64]);
        else mask = decoded.Channels == 1 ? pixels.Select(3, 0) : pixels.Select(3, index);
        return mask.Contiguous().MoveToOuterScope();
    }

    /// <summary>One image of an IMAGE batch ([H, W, C] or [1, H, W, C]) as 8-bit pixels.</summary>
    public static DecodedImage ToPixels(Tensor image)
    {
        using var scope = Torch.NewScope();
        Tensor hwc = image.Dim == 4 ? image.Select(0, 0) : image;
        if (hwc.Dim != 3) throw new ArgumentException($"an image must be [H, W, C], got [{string.Join(", ", image.Shape)}]");
        // clip then truncate, exactly as numpy's clip(255. * i, 0, 255).astype(np.uint8)
        byte[] bytes = (hwc.To(Device.Cpu, DType.Float32) * 255.0).Clamp(0, 255).To(DType.UInt8).ToArray<byte>();
        return new DecodedImage((int)hwc.Size(1), (int)hwc.Size(0), (int)hwc.Size(2), bytes);
    }
}
