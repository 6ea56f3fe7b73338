using CharacterGen.Grpc.Bench.Protos;
using CharacterGen.Protos.V1;
using CharacterGen.Server.Grpc;
using Google.Protobuf.WellKnownTypes;
using ServiceDescriptor = Google.Protobuf.Reflection.ServiceDescriptor;

namespace CharacterGen.Grpc.Bench;

/// <summary>cgbench.v1.Bench on our transport: the same work as python_server.py.</summary>
public sealed class BenchService : IGrpcService
{
    public void Register(GrpcServiceRegistry registry)
    {
        var service = BenchReflection.Descriptor.FindTypeByName<ServiceDescriptor>("Bench");
        registry
            .AddUnary<PingRequest, PingReply>(service.FindMethodByName("Ping"), PingAsync)
            .AddServerStreaming<EventsRequest, JobEvent>(service.FindMethodByName("Events"), EventsAsync);
    }

    private static Task<PingReply> PingAsync(PingRequest request, CallContext context) =>
        Task.FromResult(new PingReply { Text = request.Text });

    private static async Task EventsAsync(EventsRequest request, IServerStreamWriter<JobEvent> responses, CallContext context)
    {
        const string jobId = "00000000-0000-4000-8000-000000000000";
        for (var i = 1; i <= request.Count; i++)
        {
            await responses.WriteAsync(new JobEvent
            {
                JobId = jobId,
                Sequence = i,
                Time = Timestamp.FromDateTime(DateTime.UtcNow),
                NodeProgress = new NodeProgress { NodeId = "3", Value = i, Max = request.Count },
            }, context.CancellationToken);
        }
    }
}
