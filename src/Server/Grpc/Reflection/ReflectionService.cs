using Google.Protobuf.Reflection;
using Grpc.Reflection.V1;
using V1Alpha = Grpc.Reflection.V1Alpha;

namespace CharacterGen.Server.Grpc.Reflection;

/// <summary>
/// gRPC server reflection (grpc.reflection.v1 and v1alpha), answered from the file descriptors of
/// the registered services, so grpcurl, Postman or evans need none of our .proto files.
/// </summary>
public sealed class ReflectionService : IGrpcService
{
    private GrpcServiceRegistry? _registry;
    private DescriptorIndex? _index;

    public void Register(GrpcServiceRegistry registry)
    {
        _registry = registry;
        var v1 = ReflectionReflection.Descriptor.Services.Single();
        registry.AddDuplexStreaming<ServerReflectionRequest, ServerReflectionResponse>(v1.Methods.Single(), ServeAsync);

        // v1alpha's messages have the same names, numbers and types as v1's, so the v1 classes read
        // and write its wire format; only the service name differs.
        var v1Alpha = V1Alpha.ReflectionReflection.Descriptor.Services.Single();
        registry.AddDuplexStreaming<ServerReflectionRequest, ServerReflectionResponse>(
            $"{v1Alpha.FullName}/{v1Alpha.Methods.Single().Name}", ServerReflectionRequest.Parser, ServeAsync);
        registry.AddFileDescriptor(V1Alpha.ReflectionReflection.Descriptor);
    }

    private async Task ServeAsync(
        IAsyncStreamReader<ServerReflectionRequest> requests, IServerStreamWriter<ServerReflectionResponse> responses, CallContext context)
    {
        while (await requests.MoveNext(context.CancellationToken))
            await responses.WriteAsync(Answer(requests.Current), context.CancellationToken);
    }

    private ServerReflectionResponse Answer(ServerReflectionRequest request)
    {
        var registry = _registry ?? throw new InvalidOperationException("ReflectionService was not registered.");
        // Built on first use: by then every service has registered its files.
        var index = _index ??= new DescriptorIndex(registry.FileDescriptors);
        var response = new ServerReflectionResponse { ValidHost = request.Host, OriginalRequest = request };

        switch (request.MessageRequestCase)
        {
            case ServerReflectionRequest.MessageRequestOneofCase.ListServices:
                response.ListServicesResponse = new ListServiceResponse();
                foreach (var name in registry.ServiceNames)
                    response.ListServicesResponse.Service.Add(new ServiceResponse { Name = name });
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileByFilename:
                SetFiles(response, index.FindFile(request.FileByFilename), "File not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingSymbol:
                SetFiles(response, index.FindSymbol(request.FileContainingSymbol), "Symbol not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.FileContainingExtension:
                var extension = request.FileContainingExtension;
                SetFiles(response, index.FindExtension(extension.ContainingType, extension.ExtensionNumber), "Extension not found.");
                break;
            case ServerReflectionRequest.MessageRequestOneofCase.AllExtensionNumbersOfType:
                if (index.ExtensionNumbersOf(request.AllExtensionNumbersOfType) is { } numbers)
                    response.AllExtensionNumbersResponse = new ExtensionNumberResponse
                    {
                        BaseTypeName = request.AllExtensionNumbersOfType.TrimStart('.'),
                        ExtensionNumber = { numbers },
                    };
                else
                    SetError(response, StatusCode.NotFound, "Type not found.");
                break;
            default:
                SetError(response, StatusCode.InvalidArgument, "The request sets none of the known message_request fields.");
                break;
        }
        return response;
    }

    private static void SetFiles(ServerReflectionResponse response, FileDescriptor? file, string notFound)
    {
        if (file is null)
        {
            SetError(response, StatusCode.NotFound, notFound);
            return;
        }
        // Always the file and all its imports: clients cache by name, so repeats cost only bytes.
        response.FileDescriptorResponse = new FileDescriptorResponse();
        foreach (var each in DescriptorIndex.WithDependencies(file))
            response.FileDescriptorResponse.FileDescriptorProto.Add(each.SerializedData);
    }

    private static void SetError(ServerReflectionResponse response, StatusCode code, string message) =>
        response.ErrorResponse = new ErrorResponse { ErrorCode = (int)code, ErrorMessage = message };
}
