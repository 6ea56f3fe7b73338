using System.Text.Json.Nodes;
using CharacterGen.GraphRuntime.Engine;
using CharacterGen.GraphRuntime.Validation;
using CharacterGen.GraphRuntime.WorkflowFormat;
using CharacterGen.Nodes.Files;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Grpc.Core;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// A <see cref="WorkflowSpec"/> read into a workflow: inline JSON or a saved workflow, then the typed overrides.
/// Unreadable JSON is not an exception here but a failed <see cref="ValidationResult"/> (ComfyUI's invalid_prompt),
/// so Validate can report it like any other error. Request mistakes throw <see cref="RpcException"/>s.
/// </summary>
public sealed class WorkflowSpecReader(WorkflowEngine engine, SavedWorkflows saved)
{
    public const int MaxOverrides = 1024;

    /// <summary>Either the workflow to validate, or why it could not even be read.</summary>
    public readonly record struct Outcome(ApiWorkflow? Workflow, ValidationResult? Unreadable);

    public async Task<Outcome> ReadAsync(WorkflowSpec? spec, string field, CancellationToken cancellationToken)
    {
        spec ??= new WorkflowSpec();
        var json = spec.WorkflowCase switch
        {
            WorkflowSpec.WorkflowOneofCase.WorkflowJson => spec.WorkflowJson,
            WorkflowSpec.WorkflowOneofCase.SavedWorkflow => await ReadSavedAsync(spec.SavedWorkflow, $"{field}.saved_workflow", cancellationToken),
            _ => throw Invalid(field, "set workflow_json or saved_workflow"),
        };

        ApiWorkflow workflow;
        try { workflow = engine.Parse(json); }
        catch (WorkflowFormatException) { return new Outcome(null, engine.Validate(json)); }

        if (spec.Overrides.Count > MaxOverrides)
            throw Invalid($"{field}.overrides", $"at most {MaxOverrides} overrides are allowed");
        for (var i = 0; i < spec.Overrides.Count; i++)
            workflow = Apply(workflow, spec.Overrides[i], $"{field}.overrides[{i}]");
        return new Outcome(workflow, null);
    }

    private async Task<string> ReadSavedAsync(string name, string field, CancellationToken cancellationToken)
    {
        try
        {
            return await saved.ReadAsync(name, engine.Options.Json.MaxBytes, cancellationToken);
        }
        catch (PathEscapeException e)
        {
            throw Invalid(field, $"must be a name inside the workflows folder ({e.Message})");
        }
        catch (FileNotFoundException e)
        {
            throw RpcErrors.NotFound(e.Message);
        }
        catch (SavedWorkflowTooLargeException e)
        {
            throw Invalid(field, e.Message);
        }
    }

    private ApiWorkflow Apply(ApiWorkflow workflow, InputOverride change, string field)
    {
        var target = change.Input;
        var dot = target.IndexOf('.');
        if (dot <= 0 || dot == target.Length - 1)
            throw Invalid($"{field}.input", $"'{target}' is not of the form NODE_ID.INPUT_NAME (e.g. \"3.seed\")");
        var value = ValueOf(change, field);
        try
        {
            return WorkflowOverride.ApplyAll(workflow, [new WorkflowOverride(target[..dot], target[(dot + 1)..], value)], engine.Catalog);
        }
        catch (WorkflowOverrideException e)
        {
            throw Invalid($"{field}.input", e.Message);
        }
    }

    private static JsonNode ValueOf(InputOverride change, string field) => change.ValueCase switch
    {
        InputOverride.ValueOneofCase.IntValue => JsonValue.Create(change.IntValue),
        InputOverride.ValueOneofCase.StringValue => JsonValue.Create(change.StringValue),
        InputOverride.ValueOneofCase.BoolValue => JsonValue.Create(change.BoolValue),
        InputOverride.ValueOneofCase.DoubleValue when double.IsFinite(change.DoubleValue) => JsonValue.Create(change.DoubleValue),
        InputOverride.ValueOneofCase.DoubleValue => throw Invalid($"{field}.double_value", "NaN and infinities are not allowed"),
        _ => throw Invalid($"{field}.value", "set one of int_value, double_value, string_value or bool_value"),
    };

    private static RpcException Invalid(string field, string description) =>
        RpcErrors.InvalidArgument($"Invalid {field}: {description}", [(field, description)]);
}
