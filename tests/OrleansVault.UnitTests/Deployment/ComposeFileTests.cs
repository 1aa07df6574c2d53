using YamlDotNet.RepresentationModel;

namespace OrleansVault.UnitTests.Deployment;

/// <summary>
/// docker-compose.yml cannot run here (no Docker engine), so its structure is checked: the topology, the build of
/// every image from deploy/Dockerfile, start order on health, health checks and restart policies, no secret inline.
/// </summary>
public sealed class ComposeFileTests
{
    private static readonly string Root = RepositoryRoot.Path;

    private static YamlMappingNode Services()
    {
        var yaml = new YamlStream();
        using var reader = new StreamReader(Path.Combine(Root, "docker-compose.yml"));
        yaml.Load(reader);
        var root = (YamlMappingNode)yaml.Documents[0].RootNode;
        return (YamlMappingNode)root["services"];
    }

    private static YamlMappingNode Service(string name) => (YamlMappingNode)Services()[name];

    /// <summary>A key of a mapping, looking through YAML merge keys (<c>&lt;&lt;: *anchor</c>) as Compose does.</summary>
    private static YamlNode? Get(YamlMappingNode node, string key)
    {
        if (node.Children.TryGetValue(new YamlScalarNode(key), out var value))
        {
            return value;
        }

        if (node.Children.TryGetValue(new YamlScalarNode("<<"), out var merged))
        {
            var sources = merged is YamlSequenceNode list ? list.Children.OfType<YamlMappingNode>() : [(YamlMappingNode)merged];
            return sources.Select(m => Get(m, key)).FirstOrDefault(v => v is not null);
        }

        return null;
    }

    private static YamlNode At(YamlMappingNode node, params string[] path)
    {
        YamlNode current = node;
        foreach (var key in path)
        {
            current = Get((YamlMappingNode)current, key) ?? throw new KeyNotFoundException(string.Join('.', path));
        }

        return current;
    }

    private static bool Has(YamlMappingNode node, string key) => Get(node, key) is not null;

    [Fact]
    public void The_topology_is_postgres_a_migration_two_silos_two_gateways_and_a_proxy()
    {
        var names = Services().Children.Keys.Select(k => ((YamlScalarNode)k).Value).Order().ToList();
        Assert.Equal(["gateway1", "gateway2", "migrate", "postgres", "proxy", "silo1", "silo2"], names);
    }

    [Theory]
    [InlineData("migrate", "silo")]
    [InlineData("silo1", "silo")]
    [InlineData("silo2", "silo")]
    [InlineData("gateway1", "gateway")]
    [InlineData("gateway2", "gateway")]
    [InlineData("proxy", "proxy")]
    public void Every_image_is_built_from_the_repository_dockerfile(string service, string target)
    {
        Assert.Equal("deploy/Dockerfile", At(Service(service), "build", "dockerfile").ToString());
        Assert.Equal(target, At(Service(service), "build", "target").ToString());
        Assert.Contains($"AS {target}", File.ReadAllText(Path.Combine(Root, "deploy", "Dockerfile")), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("postgres")]
    [InlineData("silo1")]
    [InlineData("silo2")]
    [InlineData("gateway1")]
    [InlineData("gateway2")]
    [InlineData("proxy")]
    public void Long_running_services_have_a_health_check_and_a_restart_policy(string service)
    {
        var node = Service(service);
        Assert.True(Has(node, "healthcheck"), $"{service} has no healthcheck");
        Assert.Equal("unless-stopped", At(node, "restart").ToString());
    }

    [Fact]
    public void Services_start_in_order_on_health_and_the_migration_runs_once()
    {
        string Condition(string service, string on) => At(Service(service), "depends_on", on, "condition").ToString();
        Assert.Equal("service_healthy", Condition("migrate", "postgres"));
        Assert.Equal("service_completed_successfully", Condition("silo1", "migrate"));
        Assert.Equal("service_healthy", Condition("gateway1", "silo1"));
        Assert.Equal("service_healthy", Condition("proxy", "gateway2"));
        Assert.Equal("no", Service("migrate")["restart"].ToString());
        Assert.Equal("migrate", ((YamlSequenceNode)Service("migrate")["command"]).Children[0].ToString());
    }

    [Fact]
    public void The_proxy_is_the_one_published_port_and_routes_to_both_gateways()
    {
        foreach (var name in new[] { "postgres", "silo1", "silo2", "gateway1", "gateway2", "migrate" })
        {
            Assert.False(Has(Service(name), "ports"), $"{name} publishes a port");
        }

        var proxy = Service("proxy");
        Assert.Equal("8080:8080", ((YamlSequenceNode)proxy["ports"]).Children[0].ToString());
        Assert.Equal("http://gateway1:8080,http://gateway2:8080", ((YamlMappingNode)proxy["environment"])["Vault__Proxy__Gateways"].ToString());
    }

    [Fact]
    public void Secrets_come_from_the_environment_never_from_the_file()
    {
        var text = File.ReadAllText(Path.Combine(Root, "docker-compose.yml"));
        foreach (var variable in new[] { "VAULT_DB_PASSWORD", "VAULT_MASTER_KEY", "VAULT_API_SECRET", "VAULT_PUSHER_SECRET" })
        {
            Assert.Contains("${" + variable + ":?", text, StringComparison.Ordinal);
        }

        Assert.Equal("true", At(Service("silo1"), "environment", "Vault__Cluster__Enabled").ToString());
        Assert.StartsWith("${VAULT_MASTER_KEY", At(Service("silo1"), "environment", "Vault__MasterKey").ToString(), StringComparison.Ordinal);
        Assert.Equal("web", At(Service("gateway2"), "environment", "Vault__Bootstrap__ApiKey").ToString());
    }
}
