using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Cluster;

/// <summary>
/// A gateway's object call whose write meets a newer stored state (an object handed over between silos while its old
/// activation still wrote) is made once more, and reaches an activation that read the newest state: from a client
/// gateway, and from inside a silo as a gateway hosting its silo (Vault:Cluster:HostSilo) calls.
/// </summary>
[Collection(PostgresCollection.Name)]
public sealed class StaleWriteRetryTests(PostgresServer postgres)
{
    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task A_write_that_meets_a_newer_stored_state_is_retried_once_on_a_fresh_activation(bool fromInsideTheSilo)
    {
        var database = await ClusterStorageTests.MigratedDatabaseAsync(postgres);
        var clusterId = "c" + Guid.NewGuid().ToString("N")[..8];
        using var silo = ClusterStorageTests.Silo(database, clusterId, Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        await silo.StartAsync();
        using var gateway = ClusterStorageTests.GatewayClient(ClusterStorageTests.GatewayConfiguration(database, clusterId));
        if (!fromInsideTheSilo)
        {
            await gateway.StartAsync();
        }

        try
        {
            var client = (fromInsideTheSilo ? silo : gateway).Services.GetRequiredService<IGrainFactory>();
            var key = new ObjectAddress("p", "c", "stale").GrainKey;
            var grain = client.GetGrain<ISharedObjectGrain>(key);
            await grain.SetItem(new SetItemCommand("k", "1", null, false, null, null));

            // Another activation stored a newer state meanwhile (here: its version moves on under the active object).
            await using (var connection = new NpgsqlConnection(database))
            {
                await connection.OpenAsync();
                await using var bump = new NpgsqlCommand("UPDATE vault_grain_state SET version = version + 1 WHERE grain_id = $1", connection)
                {
                    Parameters = { new() { Value = grain.GetGrainId().ToString() } },
                };
                Assert.Equal(1, await bump.ExecuteNonQueryAsync());
            }

            // The active object's next write is stale: it fails, stores nothing and deactivates; the caller's outgoing
            // filter makes the call again, on an activation that read the newest state.
            Assert.NotNull(await grain.SetItem(new SetItemCommand("k", "3", null, false, null, null)));
            Assert.Equal("3", (await grain.GetItem("k"))?.ValueJson);
        }
        finally
        {
            if (!fromInsideTheSilo)
            {
                await gateway.StopAsync();
            }

            await silo.StopAsync();
        }
    }
}
