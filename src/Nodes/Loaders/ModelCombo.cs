using CharacterGen.GraphRuntime.Contracts;
using CharacterGen.Nodes.Files;

namespace CharacterGen.Nodes.Loaders;

/// <summary>A COMBO of the files of one model kind; a name not in the list is reported with the folders searched.</summary>
internal static class ModelCombo
{
    public static InputSpec Of(string inputName, string kind, ModelFolders models, Func<IReadOnlyList<string>>? options = null) =>
        InputSpec.Combo(inputName, options ?? (() => models.List(kind))) with { NotInListHint = () => "searched " + models.SearchedText(kind) };
}
