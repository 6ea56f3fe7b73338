namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>The service provider used when the host registers none.</summary>
internal sealed class NoServices : IServiceProvider
{
    public static NoServices Instance { get; } = new();
    public object? GetService(Type serviceType) => null;
}
