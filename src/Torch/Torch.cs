namespace CharacterGen.Torch;

/// <summary>Entry point of the tensor API: creation functions, scopes and runtime facts.</summary>
public static partial class Torch
{
}
