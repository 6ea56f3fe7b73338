namespace CharacterGen.GraphRuntime.WorkflowFormat;

/// <summary>The workflow could not be read at all (bad JSON, limits, wrong shape). Reported as invalid_prompt.</summary>
public sealed class WorkflowFormatException(string message, Exception? inner = null) : Exception(message, inner);
