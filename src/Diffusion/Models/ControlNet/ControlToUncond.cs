using CharacterGen.Diffusion.Conditioning;

namespace CharacterGen.Diffusion.Models.ControlNet;

/// <summary>
/// The old ControlNetApply marks its entries <c>control_apply_to_uncond</c>: before sampling, ComfyUI copies those
/// controls onto the other conditionings (samplers.apply_empty_x_to_equal_area), so cond and uncond get the same
/// residuals. For every conditioning after the first (the positive) that has no whole-image entry with a control, the
/// k-th marked control of the positive goes to its (k mod n)-th whole-image entry.
/// </summary>
public static class ControlToUncond
{
    /// <summary>The conditionings with controls copied over; the input lists when there is nothing to copy.
    /// The new entries share the positive's chains without a reference of their own: they live for one call.</summary>
    public static IReadOnlyList<IReadOnlyList<ConditioningEntry>> Apply(IReadOnlyList<IReadOnlyList<ConditioningEntry>> conditionings)
    {
        if (conditionings.Count < 2) return conditionings;
        var controls = conditionings[0]
            .Where(e => e.ControlApplyToUncond && e.Area is null && e.Control is not null)
            .Select(e => e.Control!).ToList();
        if (controls.Count == 0) return conditionings;

        var result = new List<IReadOnlyList<ConditioningEntry>> { conditionings[0] };
        foreach (IReadOnlyList<ConditioningEntry> other in conditionings.Skip(1))
        {
            var whole = Enumerable.Range(0, other.Count).Where(i => other[i].Area is null).ToList();
            if (whole.Count == 0 || whole.Any(i => other[i].Control is not null))
            {
                result.Add(other);
                continue;
            }
            var entries = other.ToArray();
            for (int k = 0; k < controls.Count; k++)
            {
                int at = whole[k % whole.Count];
                entries[at] = other[at] with { Control = controls[k] };
            }
            result.Add(entries);
        }
        return result;
    }
}
