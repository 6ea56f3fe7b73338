using CharacterGen.GraphRuntime.Nodes;
using CharacterGen.Nodes.Values;
using CharacterGen.Tensors;

namespace CharacterGen.Nodes.Runtime;

/// <summary>How tensor nodes run: gradients off, every tensor made during the call in one dispose scope.</summary>
internal static class TensorNodes
{
    /// <summary>
    /// Sets <paramref name="body"/> as the node's function, run inside a dispose scope with gradients off: temporaries
    /// go when the call ends (or throws); the tensors of the returned values (<see cref="Tensor"/>s and
    /// <see cref="ITensorOwner"/>s) are moved out of the scope and belong to the output cache from then on.
    /// </summary>
    public static NodeBuilder ExecuteTensors(this NodeBuilder builder, NodeFunction body) => builder.Execute((ctx, inputs) =>
    {
        using var noGrad = Autograd.NoGrad();
        using var scope = Torch.NewScope();
        NodeOutput output = body(ctx, inputs);
        foreach (object? value in output.Values) Keep(value);
        return output;
    });

    private static void Keep(object? value)
    {
        switch (value)
        {
            case Tensor t:
                t.DetachFromScope();
                break;
            case ITensorOwner owner:
                foreach (Tensor t in owner.OwnedTensors) t.DetachFromScope();
                break;
        }
    }
}
