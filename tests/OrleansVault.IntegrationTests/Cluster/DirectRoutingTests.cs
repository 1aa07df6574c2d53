using System.Security.Cryptography;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVault.Gateway.Hosting;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Grains.Placement;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Cluster;

/// <summary>
/// Cluster mode on a real PostgreSQL with two silos: a gateway's router sends each object's calls through the client
/// of the silo that owns it, objects live on their owners (spread over both silos), and when a silo leaves its objects
/// carry on through the other.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class DirectRoutingTests(PostgresServer postgres)
{
    [Fact]
    public async Task Objects_live_on_their_owner_silo_their_calls_go_straight_there_and_a_silo_that_leaves_hands_them_over()
    {
        var database = await ClusterStorageTests.MigratedDatabaseAsync(postgres);

        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var clusterId = "c" + Guid.NewGuid().ToString("N")[..8];
        using var first = ClusterStorageTests.Silo(database, clusterId, masterKey);
        using var second = ClusterStorageTests.Silo(database, clusterId, masterKey);
        await Task.WhenAll(first.StartAsync(), second.StartAsync());

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Vault:Cluster:Enabled"] = "true",
            ["Vault:Cluster:ConnectionString"] = database,
            ["Vault:Cluster:RoutingRefresh"] = "00:00:00.200",
            ["Vault:Silo:ClusterId"] = clusterId,
        }).Build();
        using var gateway = Host.CreateDefaultBuilder()
            .UseOrleansClient(client => client.AddVaultClusterClient(configuration))
            .Build();
        await gateway.StartAsync();
        var main = gateway.Services.GetRequiredService<IClusterClient>();
        var router = new SiloRouter(main, configuration, NullLoggerFactory.Instance);
        await router.StartAsync(CancellationToken.None);
        try
        {
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 2, Direct.Count: 2 }), "routes to both silos", TimeSpan.FromSeconds(30));
            var silos = router.Snapshot().Silos;
            var objects = new ObjectReferences(main, router);
            var keys = Enumerable.Range(0, 40).Select(i => new ObjectAddress("p", "c", $"routed-{i}").GrainKey).ToList();
            foreach (var key in keys)
            {
                Assert.NotNull(objects.Route(key).Direct);
                await objects.Get(key).SetItem(new SetItemCommand("k", $"\"{key}\"", null, false, null, null));
            }

            // Each object is active on the silo the owner function names, and both silos hold some.
            var placed = (await main.GetGrain<IManagementGrain>(0).GetDetailedGrainStatistics())
                .ToDictionary(s => s.GrainId, s => s.SiloAddress);
            var owners = keys.Select(key =>
            {
                var id = main.GetGrain<ISharedObjectGrain>(key).GetGrainId();
                Assert.True(placed.TryGetValue(id, out var at), $"{key} is not active");
                Assert.Equal(OwnerSilo.Of(id, silos), at);
                return at;
            }).ToList();
            Assert.Equal(2, owners.Distinct().Count());

            // A silo leaves: the routes drop it, and its objects come back on the other silo with their items.
            await second.StopAsync();
            await Wait.UntilAsync(() => Task.FromResult(router.Snapshot() is { Silos.Count: 1, Direct.Count: 1 }), "routes without the silo that left", TimeSpan.FromSeconds(30));
            foreach (var key in keys)
            {
                Assert.Equal($"\"{key}\"", (await objects.Get(key).GetItem("k"))?.ValueJson);
            }
        }
        finally
        {
            await router.StopAsync(CancellationToken.None);
            await gateway.StopAsync();
            await first.StopAsync();
        }
    }
}
