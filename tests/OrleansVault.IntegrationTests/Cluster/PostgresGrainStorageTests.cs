using System.Security.Cryptography;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Npgsql;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Errors;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;
using OrleansVault.IntegrationTests.Persistence;

namespace OrleansVault.IntegrationTests.Cluster;

/// <summary>Cluster-mode grain storage on a real PostgreSQL: the shared storage contract, plus what only PostgreSQL does.</summary>
[Collection(PostgresCollection.Name)]
public sealed class PostgresGrainStorageTests(PostgresServer postgres) : GrainStorageConformance, IAsyncLifetime
{
    private readonly ServiceProvider _services = TestStorage.Serializers();
    private readonly MasterKeyRing _masters = new(new MasterKey(RandomNumberGenerator.GetBytes(32)), []);
    private NpgsqlDataSource? _dataSource;
    private string _database = "";

    public async Task InitializeAsync()
    {
        _database = await postgres.CreateDatabaseAsync();
        _dataSource = NpgsqlDataSource.Create(_database);
        await VaultSchema.MigrateAsync(_dataSource);
    }

    public async Task DisposeAsync()
    {
        await _services.DisposeAsync();
        if (_dataSource is not null)
        {
            await _dataSource.DisposeAsync();
        }
    }

    protected override IGrainStorage NewStorage() => Open(_dataSource!);

    private PostgresGrainStorage Open(NpgsqlDataSource dataSource, int writers = 2) => new(
        dataSource,
        "svc",
        new PostgresStorageSettings { Writers = writers, MaxWritesPerCommit = 64 },
        _services.GetRequiredService<Serializer>(),
        new StateProtector(new DataKeyStore(new PostgresDatabase(dataSource), _masters, TimeSpan.FromSeconds(30), TimeProvider.System)),
        NullLogger<PostgresGrainStorage>.Instance);

    [Fact]
    public async Task Many_writes_share_few_transactions()
    {
        var storage = Open(_dataSource!, writers: 1);
        await storage.WriteStateAsync("object", _grain, new GrainState<SharedObjectState>(new SharedObjectState()));
        var writes = Enumerable.Range(0, 400)
            .Select(i => storage.WriteStateAsync("object", GrainId.Create("object", "p/c/batch-" + i), new GrainState<SharedObjectState>(new SharedObjectState { Sequence = i })))
            .ToList();
        await Task.WhenAll(writes);

        // Rows written by one transaction share its id (xmin). 400 writes, at most 64 per commit: at least 7
        // transactions, and far fewer than one per write.
        await using var count = _dataSource!.CreateCommand("SELECT count(*), count(DISTINCT xmin::text) FROM vault_grain_state WHERE grain_id LIKE '%batch-%'");
        await using var reader = await count.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal(400L, reader.GetInt64(0));
        Assert.InRange(reader.GetInt64(1), 7, 200);
    }

    [Fact]
    public async Task A_commit_is_all_or_nothing_a_failing_write_fails_the_writes_stored_with_it()
    {
        var storage = Open(_dataSource!, writers: 1);
        var first = new GrainState<SharedObjectState>(new SharedObjectState());
        await storage.WriteStateAsync("object", _grain, first);

        // Another transaction locks that row, so the next write of it hangs in its commit while the writes below queue
        // up behind it and go together in the next commit.
        await using var locker = await _dataSource!.OpenConnectionAsync();
        await using var lockTransaction = await locker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM vault_grain_state WHERE grain_id = $1 FOR UPDATE", locker, lockTransaction))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = _grain.ToString() });
            await lockRow.ExecuteScalarAsync();
        }

        var blocked = storage.WriteStateAsync("object", _grain, first);
        await Wait.UntilAsync(async () =>
        {
            await using var waiting = _dataSource.CreateCommand("SELECT count(*) FROM pg_locks WHERE NOT granted");
            return (long)(await waiting.ExecuteScalarAsync())! > 0;
        }, "the write of the locked row waiting for its lock");

        // PostgreSQL refuses a NUL character in text: that one statement fails, and with it the whole commit.
        var good = Enumerable.Range(0, 20)
            .Select(i => storage.WriteStateAsync("object", GrainId.Create("object", "p/c/atomic-" + i), new GrainState<SharedObjectState>(new SharedObjectState())))
            .ToList();
        var bad = storage.WriteStateAsync("object", GrainId.Create("object", "p/c/atomic-bad\u0000"), new GrainState<SharedObjectState>(new SharedObjectState()));
        await lockTransaction.RollbackAsync();
        await blocked;

        await Assert.ThrowsAnyAsync<Exception>(() => bad);
        foreach (var write in good)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => write);
        }

        await using var count = _dataSource.CreateCommand("SELECT count(*) FROM vault_grain_state WHERE grain_id LIKE '%atomic-%'");
        Assert.Equal(0L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task An_unreachable_database_is_a_retryable_error_that_can_cross_silos()
    {
        // Nothing listens there: reads and writes fail as the domain's "unavailable", never as the driver's exception
        // (which Orleans cannot serialize to the caller).
        var port = GatewayFactory.FreePortForTests();
        await using var nowhere = NpgsqlDataSource.Create(new NpgsqlConnectionStringBuilder(_database) { Port = port, Timeout = 2 }.ConnectionString);
        var storage = new PostgresGrainStorage(
            nowhere, "svc", new PostgresStorageSettings(), _services.GetRequiredService<Serializer>(),
            new StateProtector(new DataKeyStore(new PostgresDatabase(_dataSource!), _masters, TimeSpan.FromSeconds(30), TimeProvider.System)),
            NullLogger<PostgresGrainStorage>.Instance);

        var read = await Assert.ThrowsAsync<VaultException>(() => storage.ReadStateAsync("object", _grain, new GrainState<SharedObjectState>()));
        Assert.Equal(ErrorCodes.Unavailable, read.Code);
        var write = await Assert.ThrowsAsync<VaultException>(() => storage.WriteStateAsync("object", _grain, new GrainState<SharedObjectState>(new SharedObjectState())));
        Assert.Equal(VaultErrorKind.Unavailable, write.Kind);
        Assert.Null(write.InnerException);
    }

    [Fact]
    public async Task States_stored_through_the_adonet_provider_move_to_the_new_table()
    {
        var database = await postgres.CreateDatabaseAsync();
        await using var dataSource = NpgsqlDataSource.Create(database);
        await VaultSchema.MigrateAsync(dataSource);

        // Back to before schema 4: a state as schema 2's storage kept it (the key "ov:{grain id}", the state name as
        // the type string), and a cleared one (no payload).
        var writer = Open(dataSource);
        var original = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 42 });
        await writer.WriteStateAsync("object", _grain, original);
        await using (var legacy = dataSource.CreateCommand("""
            INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, version)
            SELECT 1, 0, 0, 2, state_name, 'ov:' || grain_id, service_id, payload, 7 FROM vault_grain_state;
            INSERT INTO orleansstorage (grainidhash, grainidn0, grainidn1, graintypehash, graintypestring, grainidextensionstring, serviceid, payloadbinary, version)
            VALUES (3, 0, 0, 2, 'object', 'ov:object/p/c/cleared', 'svc', NULL, 2);
            DELETE FROM vault_grain_state;
            DELETE FROM vault_schema_migrations WHERE version = 4;
            """))
        {
            await legacy.ExecuteNonQueryAsync();
        }

        Assert.Contains("004_vault_grain_state.sql", await VaultSchema.MigrateAsync(dataSource));
        var read = new GrainState<SharedObjectState>();
        await Open(dataSource).ReadStateAsync("object", _grain, read);
        Assert.Equal(42, read.State!.Sequence);
        Assert.Equal("7", read.ETag);
        await using var left = dataSource.CreateCommand("SELECT (SELECT count(*) FROM orleansstorage) * 10 + (SELECT count(*) FROM vault_grain_state)");
        Assert.Equal(1L, await left.ExecuteScalarAsync());
    }
}
