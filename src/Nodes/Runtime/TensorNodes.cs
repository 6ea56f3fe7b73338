using CharacterGen.Diffusion;
using CharacterGen.GraphRuntime.Contracts;
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
    /// The job's cancellation is watched as the thread's <see cref="Interrupts"/> token, so model code stops between
    /// blocks; an allocation failure becomes a <see cref="NodeOutOfMemoryException"/> naming the node class.
    /// </summary>
    public static NodeBuilder ExecuteTensors(this NodeBuilder builder, NodeFunction body) => builder.Execute((ctx, inputs) =>
    {
        using var interrupts = Interrupts.WatchToken(ctx.CancellationToken);
        using var noGrad = Autograd.NoGrad();
        using var scope = Torch.NewScope();
        NodeOutput output;
        try { output = body(ctx, inputs); }
        catch (Exception e) when (NodeOutOfMemoryException.IsOutOfMemory(e)) { throw new NodeOutOfMemoryException(ctx.ClassType, e); }
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
