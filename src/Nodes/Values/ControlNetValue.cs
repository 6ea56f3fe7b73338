using CharacterGen.Diffusion.Models.ControlNet;
using CharacterGen.Nodes.ModelCaching;

namespace CharacterGen.Nodes.Values;

/// <summary>
/// ComfyUI's CONTROL_NET: a handle to a loaded ControlNet (a lease on the <see cref="ModelCache"/>'s copy, or on a
/// DiffControlNetLoader net that no cache holds). Applying it hands the chain its own lease.
/// </summary>
public sealed class ControlNetValue(ModelLease<LoadedControlNet> lease) : IDisposable
{
    public LoadedControlNet Net => lease.Value;

    /// <summary>Another handle to the same weights (for a control chain that keeps them).</summary>
    public ModelLease<LoadedControlNet> ShareLease() => lease.Share();

    public void Dispose() => lease.Dispose();

    public override string ToString() => Net.ToString();
}
