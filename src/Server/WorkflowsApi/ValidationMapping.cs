using CharacterGen.GraphRuntime.Validation;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Google.Protobuf;
using Google.Rpc;
using Grpc.Core;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>
/// A <see cref="ValidationResult"/> in the API's shapes: <see cref="ValidationIssue"/>s for Validate, and for
/// Submit/Run an INVALID_ARGUMENT status whose BadRequest field violations name the bad input
/// (<c>nodes["3"].inputs.steps</c>) and whose ErrorInfo carries ComfyUI's <c>{error, node_errors}</c> JSON.
/// </summary>
internal static class ValidationMapping
{
    public const string InvalidWorkflowReason = "WORKFLOW_INVALID";
    public const string ComfyErrorMetadataKey = "comfy_error";

    /// <summary>
    /// Status details travel in a trailer; grpc-core clients refuse metadata over 8 KiB by default, and
    /// base64 adds a third. Violations and the ComfyUI JSON stop before this many serialised bytes.
    /// </summary>
    private const int DetailsBudgetBytes = 4096;

    public static IEnumerable<ValidationIssue> Issues(ValidationResult validation) =>
        validation.AllErrors().Select(e => new ValidationIssue
        {
            Field = FieldOf(e.NodeId, e.Error.InputName),
            Type = e.Error.Type,
            Message = e.Error.Message,
            Details = e.Error.Details,
            NodeId = e.NodeId ?? "",
            ClassType = e.ClassType ?? "",
            InputName = e.Error.InputName ?? "",
        });

    public static ValidateResponse ToResponse(ValidationResult validation)
    {
        var response = new ValidateResponse
        {
            Valid = validation.IsValid,
            ComfyErrorJson = validation.ToJsonString(),
            EstimatedCost = validation.EstimatedCost,
        };
        response.Issues.AddRange(Issues(validation));
        return response;
    }

    /// <summary>INVALID_ARGUMENT for a workflow that did not validate.</summary>
    public static RpcException InvalidWorkflow(ValidationResult validation)
    {
        var issues = Issues(validation).ToList();
        var badRequest = new BadRequest();
        var used = 0;
        foreach (var issue in issues)
        {
            var violation = new BadRequest.Types.FieldViolation { Field = issue.Field, Description = Describe(issue) };
            used += violation.CalculateSize() + 4;
            if (used > DetailsBudgetBytes && badRequest.FieldViolations.Count > 0) break;
            badRequest.FieldViolations.Add(violation);
        }

        var info = new ErrorInfo { Reason = InvalidWorkflowReason, Domain = RpcErrors.Domain };
        var json = validation.ToJsonString();
        if (used + json.Length <= DetailsBudgetBytes) info.Metadata[ComfyErrorMetadataKey] = json;

        var first = issues.Count > 0 ? $" First: {issues[0].Field}: {Describe(issues[0])}" : "";
        if (first.Length > 300) first = first[..297] + "...";
        var more = badRequest.FieldViolations.Count < issues.Count ? " Call Validate for the full report." : "";
        return RpcErrors.WithDetails(StatusCode.InvalidArgument,
            $"The workflow is invalid ({issues.Count} error{(issues.Count == 1 ? "" : "s")}).{first}{more}", badRequest, info);
    }

    /// <summary><c>nodes["3"].inputs.steps</c>, <c>nodes["3"]</c>, or <c>workflow</c> for a top-level error.</summary>
    public static string FieldOf(string? nodeId, string? inputName)
    {
        if (nodeId is null) return "workflow";
        var node = $"nodes[\"{nodeId.Replace("\\", "\\\\").Replace("\"", "\\\"")}\"]";
        return inputName is null ? node : $"{node}.inputs.{inputName}";
    }

    /// <summary>"type: message: details", the ComfyUI error type first so clients can match on it.</summary>
    private static string Describe(ValidationIssue issue) =>
        string.IsNullOrEmpty(issue.Details) ? $"{issue.Type}: {issue.Message}" : $"{issue.Type}: {issue.Message}: {issue.Details}";
}
