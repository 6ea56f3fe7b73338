using Google.Protobuf;
using Google.Protobuf.Reflection;

namespace CharacterGen.Server.Grpc;

/// <summary>
/// Every method the server answers, keyed by its HTTP/2 path, plus the proto files that describe
/// them (for reflection). Filled at start-up by <see cref="IGrpcService"/>s; read-only afterwards.
/// </summary>
public sealed class GrpcServiceRegistry
{
    private readonly Dictionary<string, GrpcMethod> _methods = new(StringComparer.Ordinal);
    private readonly SortedSet<string> _services = new(StringComparer.Ordinal);
    private readonly HashSet<string> _anonymousServices = new(StringComparer.Ordinal);
    private readonly List<FileDescriptor> _files = [];

    /// <summary>Fully-qualified names of every service with at least one method.</summary>
    public IReadOnlyCollection<string> ServiceNames => _services;

    /// <summary>Proto files registered for reflection (directly or through a method descriptor).</summary>
    public IReadOnlyList<FileDescriptor> FileDescriptors => _files;

    public GrpcServiceRegistry AddUnary<TRequest, TResponse>(
        MethodDescriptor method, Func<TRequest, CallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        AddUnary(Describe<TRequest, TResponse>(method, MethodType.Unary), ParserOf<TRequest>(method), handler);

    public GrpcServiceRegistry AddUnary<TRequest, TResponse>(
        string fullMethodName, MessageParser<TRequest> parser, Func<TRequest, CallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        Add(fullMethodName, MethodType.Unary, async call =>
        {
            var request = await call.ReadSingleRequestAsync(parser);
            var response = await handler(request, call.Context);
            await call.WriteAsync(response, call.Context.CancellationToken);
        });

    public GrpcServiceRegistry AddServerStreaming<TRequest, TResponse>(
        MethodDescriptor method, Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        AddServerStreaming(Describe<TRequest, TResponse>(method, MethodType.ServerStreaming), ParserOf<TRequest>(method), handler);

    public GrpcServiceRegistry AddServerStreaming<TRequest, TResponse>(
        string fullMethodName, MessageParser<TRequest> parser, Func<TRequest, IServerStreamWriter<TResponse>, CallContext, Task> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        Add(fullMethodName, MethodType.ServerStreaming, async call =>
        {
            var request = await call.ReadSingleRequestAsync(parser);
            await handler(request, new ResponseStreamWriter<TResponse>(call), call.Context);
        });

    public GrpcServiceRegistry AddClientStreaming<TRequest, TResponse>(
        MethodDescriptor method, Func<IAsyncStreamReader<TRequest>, CallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        AddClientStreaming(Describe<TRequest, TResponse>(method, MethodType.ClientStreaming), ParserOf<TRequest>(method), handler);

    public GrpcServiceRegistry AddClientStreaming<TRequest, TResponse>(
        string fullMethodName, MessageParser<TRequest> parser, Func<IAsyncStreamReader<TRequest>, CallContext, Task<TResponse>> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        Add(fullMethodName, MethodType.ClientStreaming, async call =>
        {
            var response = await handler(new RequestStreamReader<TRequest>(call, parser), call.Context);
            await call.WriteAsync(response, call.Context.CancellationToken);
        });

    public GrpcServiceRegistry AddDuplexStreaming<TRequest, TResponse>(
        MethodDescriptor method, Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, CallContext, Task> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        AddDuplexStreaming(Describe<TRequest, TResponse>(method, MethodType.DuplexStreaming), ParserOf<TRequest>(method), handler);

    public GrpcServiceRegistry AddDuplexStreaming<TRequest, TResponse>(
        string fullMethodName, MessageParser<TRequest> parser,
        Func<IAsyncStreamReader<TRequest>, IServerStreamWriter<TResponse>, CallContext, Task> handler)
        where TRequest : IMessage<TRequest> where TResponse : IMessage<TResponse> =>
        Add(fullMethodName, MethodType.DuplexStreaming, call =>
            handler(new RequestStreamReader<TRequest>(call, parser), new ResponseStreamWriter<TResponse>(call), call.Context));

    /// <summary>Makes a proto file (and its dependencies) visible to reflection.</summary>
    public GrpcServiceRegistry AddFileDescriptor(FileDescriptor file)
    {
        if (!_files.Contains(file)) _files.Add(file);
        return this;
    }

    /// <summary>Calls to this service skip authentication (health checks must work for probes).</summary>
    public GrpcServiceRegistry AllowAnonymous(string serviceName)
    {
        _anonymousServices.Add(serviceName);
        foreach (var method in _methods.Values)
            if (method.ServiceName == serviceName) method.AllowAnonymous = true;
        return this;
    }

    internal GrpcMethod? Find(string path) => _methods.GetValueOrDefault(path);

    internal bool HasService(string serviceName) => _services.Contains(serviceName);

    private GrpcServiceRegistry Add(string fullMethodName, MethodType type, Func<GrpcServerCall, Task> invoke)
    {
        var (service, name) = SplitName(fullMethodName);
        var method = new GrpcMethod(service, name, type, invoke) { AllowAnonymous = _anonymousServices.Contains(service) };
        if (!_methods.TryAdd(method.Path, method))
            throw new InvalidOperationException($"gRPC method {method.Path} is registered twice.");
        _services.Add(service);
        return this;
    }

    /// <summary>Checks the descriptor against the handler's shape and records its file for reflection.</summary>
    private string Describe<TRequest, TResponse>(MethodDescriptor method, MethodType type)
    {
        var actual = (method.IsClientStreaming, method.IsServerStreaming) switch
        {
            (false, false) => MethodType.Unary,
            (true, false) => MethodType.ClientStreaming,
            (false, true) => MethodType.ServerStreaming,
            (true, true) => MethodType.DuplexStreaming,
        };
        if (actual != type)
            throw new ArgumentException($"{method.FullName} is {actual}, but was registered as {type}.", nameof(method));
        if (method.InputType.ClrType != typeof(TRequest) || method.OutputType.ClrType != typeof(TResponse))
            throw new ArgumentException(
                $"{method.FullName} takes {method.InputType.FullName} and returns {method.OutputType.FullName}; " +
                $"the handler uses {typeof(TRequest).Name} and {typeof(TResponse).Name}.", nameof(method));
        AddFileDescriptor(method.File);
        return $"{method.Service.FullName}/{method.Name}";
    }

    private static MessageParser<T> ParserOf<T>(MethodDescriptor method) where T : IMessage<T> =>
        (MessageParser<T>)method.InputType.Parser;

    private static (string Service, string Method) SplitName(string fullMethodName)
    {
        var name = fullMethodName.TrimStart('/');
        var slash = name.IndexOf('/');
        if (slash <= 0 || slash == name.Length - 1 || name.IndexOf('/', slash + 1) >= 0)
            throw new ArgumentException($"'{fullMethodName}' is not of the form 'package.Service/Method'.", nameof(fullMethodName));
        return (name[..slash], name[(slash + 1)..]);
    }
}
