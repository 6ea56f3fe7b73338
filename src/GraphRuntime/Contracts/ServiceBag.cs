namespace CharacterGen.GraphRuntime.Contracts;

/// <summary>
/// A minimal typed service provider for hosts without a DI container (the CLI, tests): one instance
/// per type. Hosts with Microsoft.Extensions.DependencyInjection pass their own provider instead.
/// </summary>
public sealed class ServiceBag : IServiceProvider
{
    private readonly Dictionary<Type, object> _services = new();

    public ServiceBag Add<T>(T service) where T : class
    {
        _services[typeof(T)] = service;
        return this;
    }

    public object? GetService(Type serviceType) => _services.GetValueOrDefault(serviceType);
}
