using CharacterGen.Diffusion.Imaging;
using CharacterGen.Diffusion.Onnx;

namespace CharacterGen.Diffusion.Depth;

/// <summary>
/// A monocular depth estimator over an ONNX export that takes an image [N, 3, H, W] (named <c>pixel_values</c> as the
/// Hugging Face exports, or <c>image</c> as fabio-sim's) and returns relative depth [N, H', W'] or [N, 1, H', W']
/// (<c>predicted_depth</c> or <c>depth</c>). A model declaring a fixed height and width gets its input resized to
/// exactly that size; a dynamic one gets the estimator's own size rule.
/// </summary>
public abstract class DepthEstimator(OnnxModel model)
{
    public static OnnxModelSpec Spec { get; } = new("depth estimator",
        [new OnnxTensorSpec("image", ["pixel_values", "image"], 4)],
        [new OnnxTensorSpec("depth", ["predicted_depth", "depth"], 3, 4)]);

    protected OnnxModel Model { get; } = model;

    /// <summary>The 8-bit, three-channel depth picture of an RGB image, short side = <paramref name="resolution"/>.</summary>
    public abstract DecodedImage Estimate(DecodedImage rgb, int resolution);

    /// <summary>The model's fixed input size, or null when height and width are dynamic.</summary>
    protected (int Height, int Width)? FixedInputSize
    {
        get
        {
            long[] dims = Model.Inputs[0].Dimensions;
            if (dims[1] > 0 && dims[1] != 3) throw new InvalidDataException($"'{System.IO.Path.GetFileName(Model.Path)}' takes {dims[1]} channels, not 3");
            if (dims[2] > 0 && dims[3] > 0) return ((int)dims[2], (int)dims[3]);
            if (dims[2] > 0 || dims[3] > 0)
                throw new InvalidDataException($"'{System.IO.Path.GetFileName(Model.Path)}' fixes only one side of its input {Model.Inputs[0]}; " +
                    "use an export with both sides fixed or both dynamic");
            return null;
        }
    }

    /// <summary>Runs the network on one planar float32 image [3, height, width]; the raw depth map and its size.</summary>
    protected (float[] Depth, int Width, int Height) Infer(float[] planar, int width, int height)
    {
        OnnxTensor output = Model.Run(new OnnxTensor(planar, [1, 3, height, width]))[0];
        long[] shape = output.Shape;
        int outHeight = (int)shape[^2], outWidth = (int)shape[^1];
        if (output.Count != (long)outHeight * outWidth)
            throw new InvalidDataException($"the depth model returned a map of shape [{string.Join(", ", shape)}], expected one [H, W] map");
        return (output.Data, outWidth, outHeight);
    }

    /// <summary>Interleaved RGB to planar float32: ((value · scale) − mean[c]) / std[c], in float64 then cast (numpy's order).</summary>
    protected static float[] Planar(double[] rgb, int width, int height, double[] mean, double[] std)
    {
        var planar = new float[3 * width * height];
        for (int p = 0; p < width * height; p++)
            for (int c = 0; c < 3; c++)
                planar[c * width * height + p] = (float)((rgb[p * 3 + c] - mean[c]) / std[c]);
        return planar;
    }
}
