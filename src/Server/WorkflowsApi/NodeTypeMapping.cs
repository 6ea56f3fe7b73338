using CharacterGen.GraphRuntime.Contracts;
using Proto = CharacterGen.Protos.V1;

namespace CharacterGen.Server.WorkflowsApi;

/// <summary>Node definitions as the typed <see cref="Proto.NodeType"/> specs of ListNodeTypes.</summary>
internal static class NodeTypeMapping
{
    public static Proto.NodeType ToProto(NodeDefinition node) => new()
    {
        ClassType = node.ClassType,
        DisplayName = node.EffectiveDisplayName,
        Category = node.Category,
        Description = node.Description,
        PythonModule = node.PythonModule,
        OutputNode = node.OutputNode,
        InputIsList = node.InputIsList,
        Deprecated = node.Deprecated,
        Experimental = node.Experimental,
        Inputs = { node.Inputs.Select(ToProto) },
        Outputs = { node.Outputs.Select(o => new Proto.NodeOutputSpec { Type = o.Type, Name = o.Name, IsList = o.IsList, Tooltip = o.Tooltip ?? "" }) },
    };

    private static Proto.NodeInputSpec ToProto(InputSpec input)
    {
        var message = new Proto.NodeInputSpec
        {
            Name = input.Name,
            Type = input.Type,
            Section = input.Section switch
            {
                InputSection.Required => Proto.InputSection.Required,
                InputSection.Optional => Proto.InputSection.Optional,
                _ => Proto.InputSection.Hidden,
            },
            DefaultValue = input.Default is null ? null : ProtoValues.ToValue(input.Default),
            Options = { input.IsCombo ? input.CurrentOptions() : [] },
            Multiline = input.Multiline,
            Tooltip = input.Tooltip ?? "",
            Lazy = input.Lazy,
            ForceInput = input.ForceInput,
        };
        if (input.Min is { } min) message.Min = (double)min;
        if (input.Max is { } max) message.Max = (double)max;
        if (input.Step is { } step) message.Step = (double)step;
        if (input.Round is { } round) message.Round = (double)round;
        return message;
    }
}
