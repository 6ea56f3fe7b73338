using Google.Protobuf.Reflection;

namespace CharacterGen.Server.Grpc.Reflection;

/// <summary>
/// Proto files reachable from the registered services, indexed the way reflection asks for them:
/// by file name, by fully-qualified symbol, and by extension.
/// </summary>
internal sealed class DescriptorIndex
{
    private readonly Dictionary<string, FileDescriptor> _byName = new(StringComparer.Ordinal);
    private readonly Dictionary<string, FileDescriptor> _bySymbol = new(StringComparer.Ordinal);
    private readonly Dictionary<(string Type, int Number), FileDescriptor> _byExtension = [];
    private readonly Dictionary<string, List<int>> _extensionNumbers = new(StringComparer.Ordinal);

    public DescriptorIndex(IEnumerable<FileDescriptor> files)
    {
        foreach (var file in files) Add(file);
    }

    public FileDescriptor? FindFile(string name) => _byName.GetValueOrDefault(name);

    /// <summary>Accepts names with or without the leading '.' of protobuf's absolute form.</summary>
    public FileDescriptor? FindSymbol(string symbol) => _bySymbol.GetValueOrDefault(symbol.TrimStart('.'));

    public FileDescriptor? FindExtension(string type, int number) => _byExtension.GetValueOrDefault((type.TrimStart('.'), number));

    /// <summary>Extension numbers of a known message type (empty if it has none); null for an unknown type.</summary>
    public IReadOnlyList<int>? ExtensionNumbersOf(string type)
    {
        type = type.TrimStart('.');
        if (_extensionNumbers.TryGetValue(type, out var numbers)) return numbers;
        return _bySymbol.ContainsKey(type) ? [] : null;
    }

    /// <summary>The file first, then every file it imports, transitively, each once.</summary>
    public static IReadOnlyList<FileDescriptor> WithDependencies(FileDescriptor file)
    {
        var ordered = new List<FileDescriptor> { file };
        var seen = new HashSet<string>(StringComparer.Ordinal) { file.Name };
        for (var i = 0; i < ordered.Count; i++)
            foreach (var dependency in ordered[i].Dependencies)
                if (seen.Add(dependency.Name)) ordered.Add(dependency);
        return ordered;
    }

    private void Add(FileDescriptor file)
    {
        if (!_byName.TryAdd(file.Name, file)) return;
        foreach (var dependency in file.Dependencies) Add(dependency);

        foreach (var service in file.Services)
        {
            _bySymbol.TryAdd(service.FullName, file);
            foreach (var method in service.Methods) _bySymbol.TryAdd(method.FullName, file);
        }
        foreach (var message in file.MessageTypes) AddMessage(file, message);
        foreach (var enumType in file.EnumTypes) _bySymbol.TryAdd(enumType.FullName, file);
        AddExtensions(file, file.Extensions.UnorderedExtensions);
    }

    private void AddMessage(FileDescriptor file, MessageDescriptor message)
    {
        _bySymbol.TryAdd(message.FullName, file);
        foreach (var field in message.Fields.InDeclarationOrder()) _bySymbol.TryAdd(field.FullName, file);
        foreach (var nested in message.NestedTypes) AddMessage(file, nested);
        foreach (var enumType in message.EnumTypes) _bySymbol.TryAdd(enumType.FullName, file);
        AddExtensions(file, message.Extensions.UnorderedExtensions);
    }

    private void AddExtensions(FileDescriptor file, IEnumerable<FieldDescriptor> extensions)
    {
        foreach (var extension in extensions)
        {
            var extendee = extension.ExtendeeType.FullName;
            _byExtension.TryAdd((extendee, extension.FieldNumber), file);
            if (!_extensionNumbers.TryGetValue(extendee, out var numbers)) _extensionNumbers[extendee] = numbers = [];
            numbers.Add(extension.FieldNumber);
            _bySymbol.TryAdd(extension.FullName, file);
        }
    }
}
