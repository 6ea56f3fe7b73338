namespace CharacterGen.GraphRuntime.Validation;

/// <summary>
/// The <c>type</c> strings of validation errors. The first group is ComfyUI's vocabulary; the second
/// names the checks CharacterGen adds (ComfyUI has no word for them because it does not make them).
/// </summary>
public static class ValidationErrorTypes
{
    public const string InvalidPrompt = "invalid_prompt";
    public const string PromptNoOutputs = "prompt_no_outputs";
    public const string RequiredInputMissing = "required_input_missing";
    public const string BadLinkedInput = "bad_linked_input";
    public const string ReturnTypeMismatch = "return_type_mismatch";
    public const string InvalidInputType = "invalid_input_type";
    public const string ValueSmallerThanMin = "value_smaller_than_min";
    public const string ValueBiggerThanMax = "value_bigger_than_max";
    public const string ValueNotInList = "value_not_in_list";
    public const string CustomValidationFailed = "custom_validation_failed";
    public const string PromptOutputsFailedValidation = "prompt_outputs_failed_validation";

    /// <summary>A node takes part in a dependency cycle (ComfyUI finds these only at run time).</summary>
    public const string DependencyCycle = "dependency_cycle";
    /// <summary>An input the node does not declare (ComfyUI silently drops such literals).</summary>
    public const string UnknownInput = "unknown_input";
    /// <summary>The summed cost estimate of the workflow exceeds the engine's budget.</summary>
    public const string CostBudgetExceeded = "cost_budget_exceeded";
    /// <summary>A node's peak memory estimate exceeds the engine's <see cref="Contracts.MemoryBudget"/>.</summary>
    public const string MemoryBudgetExceeded = "memory_budget_exceeded";
}
