using Microsoft.Extensions.Configuration;
using Npgsql;
using OrleansVault.Hosting.Cluster;

namespace OrleansVault.UnitTests.Cluster;

public sealed class ClusterOptionsTests
{
    private static VaultClusterOptions From(params (string Key, string Value)[] settings) =>
        VaultClusterOptions.From(new ConfigurationBuilder()
            .AddInMemoryCollection(settings.Select(s => KeyValuePair.Create("Vault:Cluster:" + s.Key, (string?)s.Value)).Append(KeyValuePair.Create("Vault:Cluster:Enabled", (string?)"true")))
            .Build());

    [Fact]
    public void A_connection_string_without_a_pool_size_gets_the_configured_cap()
    {
        Assert.Equal(20, new NpgsqlConnectionStringBuilder(From(("ConnectionString", "Host=db;Username=u;Database=d")).ConnectionString).MaxPoolSize);
        Assert.Equal(7, new NpgsqlConnectionStringBuilder(From(("ConnectionString", "Host=db;Database=d"), ("MaxPoolSize", "7")).ConnectionString).MaxPoolSize);
    }

    [Theory]
    [InlineData("Host=db;Maximum Pool Size=100")]
    [InlineData("Host=db;MaxPoolSize=100")]
    [InlineData("Host=db;maximum pool size=100")]
    public void A_pool_size_in_the_connection_string_wins(string connectionString) =>
        Assert.Equal(100, new NpgsqlConnectionStringBuilder(From(("ConnectionString", connectionString)).ConnectionString).MaxPoolSize);

    [Fact]
    public void Connections_prepare_statements_unless_the_connection_string_says_otherwise()
    {
        Assert.Equal(VaultClusterOptions.AutoPreparedStatements, new NpgsqlConnectionStringBuilder(From(("ConnectionString", "Host=db;Database=d")).ConnectionString).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(From(("ConnectionString", "Host=db;Max Auto Prepare=0")).ConnectionString).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(VaultClusterOptions.WithDefaults("Host=db;maxautoprepare=0", 5)).MaxAutoPrepare);
        Assert.Equal(5, new NpgsqlConnectionStringBuilder(VaultClusterOptions.WithDefaults("Host=db;maxautoprepare=0", 5)).MaxPoolSize);
    }

    [Theory]
    [InlineData("MaxPoolSize", "0", "Vault:Cluster:MaxPoolSize")]
    [InlineData("Storage:Writers", "0", "Vault:Cluster:Storage")]
    [InlineData("Storage:MaxWritesPerCommit", "0", "Vault:Cluster:Storage")]
    [InlineData("RoutingRefresh", "00:00:00", "Vault:Cluster:RoutingRefresh")]
    [InlineData("RoutingRefresh", "-00:00:01", "Vault:Cluster:RoutingRefresh")]
    public void Bad_storage_settings_name_their_key(string key, string value, string named)
    {
        var error = Assert.Throws<InvalidOperationException>(() => From(("ConnectionString", "Host=db"), (key, value)));
        Assert.Contains(named, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Direct_routing_is_on_by_default_and_can_be_turned_off()
    {
        var defaults = From(("ConnectionString", "Host=db"));
        Assert.True(defaults.DirectRouting);
        Assert.Equal(TimeSpan.FromSeconds(5), defaults.RoutingRefresh);
        Assert.False(From(("ConnectionString", "Host=db"), ("DirectRouting", "false")).DirectRouting);
    }
}
