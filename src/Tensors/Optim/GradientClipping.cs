namespace CharacterGen.Tensors.Optim;

/// <summary>Gradient clipping by the global L2 norm over all parameters (torch.nn.utils.clip_grad_norm_).</summary>
public static class GradientClipping
{
    /// <summary>
    /// Scales every gradient by min(1, maxNorm / (‖g‖ + 1e-6)), ‖g‖ the L2 norm of all gradients together, and returns
    /// ‖g‖ before clipping. Parameters without a gradient are ignored.
    /// </summary>
    public static double ClipByGlobalNorm(IEnumerable<Tensor> parameters, double maxNorm)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxNorm);
        using var scope = Torch.NewScope();
        using var noGrad = Autograd.NoGrad();
        var grads = parameters.Select(p => p.Grad).OfType<Tensor>().ToList();
        if (grads.Count == 0) return 0;
        // Sum of squares in float64 so the norm does not depend on the order of many float32 partial sums.
        double sumSquares = grads.Sum(g => g.To(DType.Float64).Square().Sum().Item());
        double total = Math.Sqrt(sumSquares);
        double coefficient = maxNorm / (total + 1e-6);
        if (coefficient < 1)
            foreach (Tensor g in grads) g.Mul_(coefficient);
        return total;
    }
}
