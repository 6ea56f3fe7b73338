namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// Undeclared link inputs a node accepts, such as ImpactConcatConditionings' conditioning2..N.
/// Matching inputs must be links of a compatible type; they reach the node in JSON key order.
/// </summary>
public sealed record DynamicInputRule(string Prefix, string Type)
{
    public bool Matches(string inputName) =>
        inputName.Length > Prefix.Length
        && inputName.StartsWith(Prefix, StringComparison.Ordinal)
        && inputName.AsSpan(Prefix.Length).IndexOfAnyExceptInRange('0', '9') < 0;
}
