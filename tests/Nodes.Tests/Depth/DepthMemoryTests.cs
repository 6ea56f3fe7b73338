using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Runtime;
using CharacterGen.Nodes.Tests.Support;

namespace CharacterGen.Nodes.Tests.Depth;

/// <summary>The depth nodes' validation-time memory estimate: the output shape for downstream nodes, and a cost that grows with the picture.</summary>
public class DepthMemoryTests
{
    [TestCase("DepthAnythingV2Preprocessor")]
    [TestCase("MiDaS-DepthMapPreprocessor")]
    public void The_estimate_passes_the_resized_shape_downstream(string node)
    {
        using var env = NodeTestEnvironment.Create(withCheckpoint: false);
        MemoryEstimate small = Estimate(env, node, new ImageShape(2, 768, 1024), 512);
        Assert.That(small.Outputs!.Single(), Is.EqualTo(new ImageShape(2, 512, 683)), "short side = resolution, as aux's resize_image_with_pad");
        MemoryEstimate large = Estimate(env, node, new ImageShape(2, 3072, 4096), 2048);
        Assert.That(large.PeakBytes, Is.GreaterThan(small.PeakBytes * 10));
        Assert.That(large.PeakBytes, Is.GreaterThan(new ImageShape(2, 3072, 4096).Bytes + 2 * new ImageShape(2, 2048, 2731).Bytes));
    }

    private static MemoryEstimate Estimate(NodeTestEnvironment env, string node, ImageShape input, long resolution) =>
        env.Node(node).EstimateMemory!(new MemoryEstimateContext(
            new LiteralInputs(new Dictionary<string, object?> { ["resolution"] = resolution }, new ServiceBag()),
            name => name == "image" ? input : null));
}
