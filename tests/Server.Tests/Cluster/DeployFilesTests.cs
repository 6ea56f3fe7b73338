using YamlDotNet.RepresentationModel;

namespace CharacterGen.Server.Tests.Cluster;

/// <summary>
/// deploy/compose.yaml and deploy/k8s/*.yaml parse as YAML and say what docs/deploy.md promises: one API role node,
/// GPU workers, the shared database and data folder, probes on the gRPC health service. (Docker and Kubernetes do not
/// run here; this is what can be checked without them.)
/// </summary>
public sealed class DeployFilesTests
{
    private static string Deploy(string path) => Path.Combine(RepositoryRoot(), "deploy", path);

    private static List<YamlMappingNode> Documents(string path)
    {
        var stream = new YamlStream();
        using (var reader = new StreamReader(Deploy(path))) stream.Load(reader);
        return stream.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static YamlNode At(YamlNode node, params string[] keys) =>
        keys.Aggregate(node, (n, key) => ((YamlMappingNode)n).Children[new YamlScalarNode(key)]);

    private static string[] Scalars(YamlNode node) => ((YamlSequenceNode)node).Children.Select(c => ((YamlScalarNode)c).Value!).ToArray();

    [Test]
    public void Compose_runs_postgres_an_api_node_and_gpu_workers_on_one_database_and_data_volume()
    {
        var compose = Documents("compose.yaml").Single();
        var services = (YamlMappingNode)At(compose, "services");
        Assert.That(services.Children.Keys.Select(k => ((YamlScalarNode)k).Value), Is.EquivalentTo(new[] { "postgres", "api", "worker" }));
        Assert.That(Scalars(At(services, "api", "command")), Is.SupersetOf(new[] { "--role", "api" }));
        Assert.That(Scalars(At(services, "worker", "command")), Is.SupersetOf(new[] { "--role", "worker" }));
        var gpu = (YamlMappingNode)((YamlSequenceNode)At(services, "worker", "deploy", "resources", "reservations", "devices")).Children[0];
        Assert.That(Scalars(At(gpu, "capabilities")), Does.Contain("gpu"));
        var node = At(compose, "x-node");
        Assert.That(((YamlScalarNode)At(node, "environment", "CHARACTERGEN_DATABASE")).Value, Does.StartWith("postgres://"));
        Assert.That(Scalars(At(node, "volumes")), Does.Contain("data:/data"));
    }

    [Test]
    public void Kubernetes_deployments_probe_grpc_health_and_workers_request_a_gpu()
    {
        foreach (var (file, role) in new[] { ("k8s/api.yaml", "api"), ("k8s/worker.yaml", "worker") })
        {
            var deployment = Documents(file).Single();
            Assert.That(((YamlScalarNode)At(deployment, "kind")).Value, Is.EqualTo("Deployment"));
            var container = (YamlMappingNode)((YamlSequenceNode)At(deployment, "spec", "template", "spec", "containers")).Children[0];
            Assert.That(Scalars(At(container, "args")), Is.SupersetOf(new[] { "--role", role }), file);
            Assert.That(((YamlScalarNode)At(container, "readinessProbe", "grpc", "service")).Value, Is.EqualTo("ready"), file);
            Assert.That(((YamlScalarNode)At(container, "livenessProbe", "grpc", "service")).Value, Is.EqualTo("live"), file);
            var resources = (YamlMappingNode)At(container, "resources");
            Assert.That(resources.Children.ContainsKey(new YamlScalarNode("limits")) &&
                ((YamlMappingNode)At(resources, "limits")).Children.ContainsKey(new YamlScalarNode("nvidia.com/gpu")), Is.EqualTo(role == "worker"), file);
        }
        var service = Documents("k8s/service.yaml").Single();
        Assert.That(((YamlScalarNode)At(service, "spec", "selector", "role")).Value, Is.EqualTo("api"));
        Assert.That(Documents("k8s/config.yaml").Select(d => ((YamlScalarNode)At(d, "kind")).Value),
            Is.EqualTo(new[] { "ConfigMap", "PersistentVolumeClaim", "PersistentVolumeClaim" }));
    }

    private static string RepositoryRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d is not null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "CharacterGen.sln"))) return d.FullName;
        throw new DirectoryNotFoundException("CharacterGen.sln not found above the test directory");
    }
}
