using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using OrleansVault.Hosting;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Cluster;

/// <summary>Cluster mode's storage on a real PostgreSQL: the schema migrations, and a silo keeping encrypted state there.</summary>
[Collection(PostgresCollection.Name)]
public sealed class ClusterStorageTests(PostgresServer postgres)
{
    private static async Task<string> SchemaSnapshotAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand("""
            SELECT string_agg(line, E'\n' ORDER BY line) FROM (
                SELECT table_name || '.' || column_name || ':' || data_type AS line FROM information_schema.columns WHERE table_schema = 'public'
                UNION ALL SELECT 'query ' || querykey || ' ' || md5(querytext) FROM orleansquery
                UNION ALL SELECT 'index ' || indexname || ' ' || indexdef FROM pg_indexes WHERE schemaname = 'public'
                UNION ALL SELECT 'trigger ' || tgname FROM pg_trigger WHERE NOT tgisinternal
                UNION ALL SELECT 'migration ' || version || ' ' || name || ' ' || checksum FROM vault_schema_migrations
            ) lines
            """, connection);
        return (string)(await command.ExecuteScalarAsync())!;
    }

    [Fact]
    public async Task Migrate_applies_every_script_once_and_a_second_run_changes_nothing()
    {
        var database = await postgres.CreateDatabaseAsync();
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Vault:Cluster:ConnectionString"] = database }).Build();
        var output = new StringWriter();
        Assert.Equal(0, await MigrateCommand.RunAsync(configuration, output));
        Assert.Contains("applied 001_orleans_clustering.sql, 002_orleans_storage.sql, 003_vault_tables.sql, 004_vault_grain_state.sql", output.ToString(), StringComparison.Ordinal);
        var first = await SchemaSnapshotAsync(database);

        output = new StringWriter();
        Assert.Equal(0, await MigrateCommand.RunAsync(configuration, output));
        Assert.Contains("schema up to date", output.ToString(), StringComparison.Ordinal);
        Assert.Equal(first, await SchemaSnapshotAsync(database));
        Assert.Contains("query WriteToStorageKey", first, StringComparison.Ordinal);
        Assert.Contains("query UpdateIAmAlivetimeKey", first, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Migrate_without_a_connection_string_names_the_setting()
    {
        var output = new StringWriter();
        Assert.Equal(2, await MigrateCommand.RunAsync(new ConfigurationBuilder().Build(), output));
        Assert.Contains("Vault:Cluster:ConnectionString", output.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_audit_log_in_postgresql_refuses_updates_and_deletes()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        await VaultSchema.MigrateAsync(dataSource);
        var store = new OrleansVault.Hosting.Audit.AuditLogStore(new OrleansVault.Hosting.Persistence.PostgresDatabase(dataSource));
        await store.AppendAsync([new OrleansVault.Projects.AuditEvent(1, "p", "k", "token.mint", "ok", "127.0.0.1", null)]);
        Assert.Single(await store.QueryAsync("p", 0, 10));
        await using var connection = await dataSource.OpenConnectionAsync();
        await using var update = new NpgsqlCommand("UPDATE audit_log SET outcome = 'forged'", connection);
        var error = await Assert.ThrowsAsync<PostgresException>(() => update.ExecuteNonQueryAsync());
        Assert.Contains("append-only", error.MessageText, StringComparison.Ordinal);
    }

    /// <summary>A fresh database of the test server with the cluster schema applied.</summary>
    internal static async Task<string> MigratedDatabaseAsync(PostgresServer postgres)
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        await VaultSchema.MigrateAsync(dataSource);
        return database;
    }

    internal static IHost Silo(string database, string clusterId, string masterKey, IReadOnlyDictionary<string, string?>? settings = null) =>
        Host.CreateDefaultBuilder()
            .ConfigureAppConfiguration(c => c.AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Vault:Cluster:Enabled"] = "true",
                ["Vault:Cluster:ConnectionString"] = database,
                ["Vault:MasterKey"] = masterKey,
                ["Vault:Silo:ClusterId"] = clusterId,
                ["Vault:Silo:SiloPort"] = GatewayFactory.FreePortForTests().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Vault:Silo:GatewayPort"] = GatewayFactory.FreePortForTests().ToString(System.Globalization.CultureInfo.InvariantCulture),
                ["Vault:DataDirectory"] = Path.Combine(Path.GetTempPath(), "ov-cluster-" + Guid.NewGuid().ToString("N")),
            }))
            .UseOrleans((context, silo) => silo.AddVaultSilo(context.Configuration))
            .Build();

    /// <summary>A gateway's cluster-mode configuration for the cluster <paramref name="clusterId"/> on <paramref name="database"/>.</summary>
    internal static IConfiguration GatewayConfiguration(string database, string clusterId, params (string Key, string Value)[] settings)
    {
        var values = new Dictionary<string, string?>
        {
            ["Vault:Cluster:Enabled"] = "true",
            ["Vault:Cluster:ConnectionString"] = database,
            ["Vault:Silo:ClusterId"] = clusterId,
        };
        foreach (var (key, value) in settings)
        {
            values[key] = value;
        }

        return new ConfigurationBuilder().AddInMemoryCollection(values).Build();
    }

    /// <summary>A host (not started) of the Orleans client a gateway with <paramref name="configuration"/> runs.</summary>
    internal static IHost GatewayClient(IConfiguration configuration) =>
        Host.CreateDefaultBuilder().UseOrleansClient(client => client.AddVaultClusterClient(configuration)).Build();

    [Fact]
    public async Task A_silo_on_postgresql_keeps_only_ciphertext_and_its_state_survives_a_restart()
    {
        var database = await MigratedDatabaseAsync(postgres);

        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var clusterId = "c" + Guid.NewGuid().ToString("N")[..8];
        const string Marker = "PG-PLAINTEXT-MARKER-4711";
        var address = new ObjectAddress("pgproj", "notes", "first").GrainKey;
        using (var silo = Silo(database, clusterId, masterKey))
        {
            await silo.StartAsync();
            var grains = silo.Services.GetRequiredService<IGrainFactory>();
            await grains.GetGrain<ISharedObjectGrain>(address).SetItem(new SetItemCommand("secret", $"\"{Marker}\"", null, false, null, null));
            await silo.StopAsync();
        }

        await using (var connection = new NpgsqlConnection(database))
        {
            await connection.OpenAsync();
            var stored = new List<(byte[] Payload, string Key)>();
            await using (var rows = new NpgsqlCommand("SELECT payload, grain_id FROM vault_grain_state", connection))
            await using (var reader = await rows.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    stored.Add(((byte[])reader[0], reader.GetString(1)));
                }
            }

            foreach (var (payload, key) in stored)
            {
                Assert.DoesNotContain(Marker, Encoding.Latin1.GetString(payload), StringComparison.Ordinal);
                Assert.DoesNotContain("secret", Encoding.Latin1.GetString(payload), StringComparison.Ordinal);
                Assert.Contains("pgproj", key, StringComparison.Ordinal);
            }

            var count = stored.Count;
            Assert.True(count >= 2, "the object and its project were stored");
            await using var members = new NpgsqlCommand("SELECT count(*) FROM orleansmembershiptable WHERE deploymentid = @id", connection);
            members.Parameters.AddWithValue("id", clusterId);
            Assert.Equal(1L, await members.ExecuteScalarAsync());
        }

        using (var silo = Silo(database, clusterId, masterKey))
        {
            await silo.StartAsync();
            var item = await silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ISharedObjectGrain>(address).GetItem("secret");
            Assert.Equal($"\"{Marker}\"", item?.ValueJson);
            await silo.StopAsync();
        }
    }

    [Fact]
    public async Task A_silo_refuses_to_start_on_a_database_without_the_schema()
    {
        var database = await postgres.CreateDatabaseAsync();
        using var silo = Silo(database, "c" + Guid.NewGuid().ToString("N")[..8], Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)));
        var error = await Assert.ThrowsAnyAsync<Exception>(() => silo.StartAsync());
        Assert.Contains("migrate", error.ToString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_admin_command_rotates_reencrypts_and_shreds_on_postgresql()
    {
        var database = await MigratedDatabaseAsync(postgres);

        var masterKey = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        var clusterId = "c" + Guid.NewGuid().ToString("N")[..8];
        var address = new ObjectAddress("shred", "notes", "x").GrainKey;
        using (var silo = Silo(database, clusterId, masterKey))
        {
            await silo.StartAsync();
            await silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ISharedObjectGrain>(address).SetItem(new SetItemCommand("k", "1", null, false, null, null));
            await silo.StopAsync();
        }

        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Vault:Cluster:Enabled"] = "true",
            ["Vault:Cluster:ConnectionString"] = database,
            ["Vault:MasterKey"] = masterKey,
        }).Build();
        async Task<string> Admin(params string[] args)
        {
            var output = new StringWriter();
            Assert.Equal(0, await OrleansVault.Hosting.Admin.VaultAdminCommand.RunAsync(args, configuration, output));
            return output.ToString();
        }

        Assert.Contains("rows shred v1: 2", await Admin("status"), StringComparison.Ordinal);
        Assert.Contains("is now v2", await Admin("rotate-data-key", "--project", "shred"), StringComparison.Ordinal);
        Assert.Contains("re-encrypted 2 rows", await Admin("reencrypt", "--project", "shred"), StringComparison.Ordinal);
        Assert.Contains("rows shred v2: 2", await Admin("status"), StringComparison.Ordinal);

        // Still readable after the re-encryption, by a silo that never saw the old key in memory.
        using (var silo = Silo(database, clusterId, masterKey))
        {
            await silo.StartAsync();
            Assert.Equal("1", (await silo.Services.GetRequiredService<IGrainFactory>().GetGrain<ISharedObjectGrain>(address).GetItem("k"))?.ValueJson);
            await silo.StopAsync();
        }

        Assert.Contains("deleted its 2 rows", await Admin("delete-project", "--project", "shred", "--yes"), StringComparison.Ordinal);
        var status = await Admin("status");
        Assert.DoesNotContain("shred", status, StringComparison.Ordinal);
    }
}
