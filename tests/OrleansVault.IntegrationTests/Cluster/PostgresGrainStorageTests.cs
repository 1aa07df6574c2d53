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

        // Rows that exist already: their next writes are updates, a different statement of the commit than the insert
        // that fails below.
        var states = Enumerable.Range(0, 20).Select(_ => new GrainState<SharedObjectState>(new SharedObjectState())).ToList();
        for (var i = 0; i < states.Count; i++)
        {
            await storage.WriteStateAsync("object", GrainId.Create("object", "p/c/atomic-" + i), states[i]);
        }

        var release = await HoldCommitsAsync(storage, first);

        // PostgreSQL refuses a NUL character in text: the statement inserting that row fails, and with it the whole
        // commit, the updates of the twenty rows included.
        var good = Enumerable.Range(0, 20)
            .Select(i => storage.WriteStateAsync("object", GrainId.Create("object", "p/c/atomic-" + i), states[i]))
            .ToList();
        var bad = storage.WriteStateAsync("object", GrainId.Create("object", "p/c/atomic-bad\u0000"), new GrainState<SharedObjectState>(new SharedObjectState()));
        await release();

        await Assert.ThrowsAnyAsync<Exception>(() => bad);
        foreach (var write in good)
        {
            await Assert.ThrowsAnyAsync<Exception>(() => write);
        }

        await using var count = _dataSource!.CreateCommand("SELECT count(*) FILTER (WHERE version = 1) * 100 + count(*) FROM vault_grain_state WHERE grain_id LIKE '%atomic-%'");
        Assert.Equal(2020L, await count.ExecuteScalarAsync());
    }

    [Fact]
    public async Task One_commit_applies_each_kind_of_write_and_fails_only_the_stale_ones()
    {
        var storage = Open(_dataSource!, writers: 1);
        var first = new GrainState<SharedObjectState>(new SharedObjectState());
        await storage.WriteStateAsync("object", _grain, first);
        GrainId Grain(string name) => GrainId.Create("object", "p/c/mixed-" + name);
        var fresh = Enumerable.Range(0, 5).Select(_ => new GrainState<SharedObjectState>(new SharedObjectState())).ToList();
        var stale = Enumerable.Range(0, 5).Select(_ => new GrainState<SharedObjectState>(new SharedObjectState())).ToList();
        var doomed = Enumerable.Range(0, 3).Select(_ => new GrainState<SharedObjectState>(new SharedObjectState())).ToList();
        for (var i = 0; i < 5; i++)
        {
            await storage.WriteStateAsync("object", Grain("fresh-" + i), fresh[i]);
            await storage.WriteStateAsync("object", Grain("stale-" + i), stale[i]);
            await storage.WriteStateAsync("object", Grain("stale-" + i), new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 7 }) { ETag = stale[i].ETag });
            await storage.WriteStateAsync("object", Grain("taken-" + i), new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 7 }));
        }

        for (var i = 0; i < doomed.Count; i++)
        {
            await storage.WriteStateAsync("object", Grain("doomed-" + i), doomed[i]);
        }

        // All of these go in the one commit after the held one: updates (current and stale ETags), new rows (and new rows
        // that exist already), deletes.
        var release = await HoldCommitsAsync(storage, first);
        var updated = Enumerable.Range(0, 5).Select(i => { fresh[i].State!.Sequence = 100 + i; return storage.WriteStateAsync("object", Grain("fresh-" + i), fresh[i]); }).ToList();
        var lost = Enumerable.Range(0, 5).Select(i => storage.WriteStateAsync("object", Grain("stale-" + i), stale[i])).ToList();
        var created = Enumerable.Range(0, 5).Select(i => storage.WriteStateAsync("object", Grain("new-" + i), new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 200 + i }))).ToList();
        var duplicates = Enumerable.Range(0, 5).Select(i => storage.WriteStateAsync("object", Grain("taken-" + i), new GrainState<SharedObjectState>(new SharedObjectState()))).ToList();
        var cleared = Enumerable.Range(0, doomed.Count).Select(i => storage.ClearStateAsync("object", Grain("doomed-" + i), doomed[i])).ToList();
        await release();

        await Task.WhenAll(updated.Concat(created).Concat(cleared));
        foreach (var write in lost.Concat(duplicates))
        {
            await Assert.ThrowsAsync<InconsistentStateException>(() => write);
        }

        await using var rows = _dataSource!.CreateCommand("SELECT count(DISTINCT xmin::text) FROM vault_grain_state WHERE grain_id LIKE '%mixed-fresh-%' OR grain_id LIKE '%mixed-new-%'");
        Assert.Equal(1L, await rows.ExecuteScalarAsync());
        var reader = Open(_dataSource!);
        async Task<GrainState<SharedObjectState>> Read(string name)
        {
            var read = new GrainState<SharedObjectState>();
            await reader.ReadStateAsync("object", Grain(name), read);
            return read;
        }

        async Task<(long Sequence, string? ETag)> SequenceAndETag(string name)
        {
            var read = await Read(name);
            return (read.State!.Sequence, read.ETag);
        }

        for (var i = 0; i < 5; i++)
        {
            Assert.Equal((100 + i, "2"), await SequenceAndETag("fresh-" + i));
            Assert.Equal((7, "2"), await SequenceAndETag("stale-" + i));
            Assert.Equal((200 + i, "1"), await SequenceAndETag("new-" + i));
            Assert.Equal(7, (await Read("taken-" + i)).State!.Sequence);
        }

        for (var i = 0; i < doomed.Count; i++)
        {
            Assert.False((await Read("doomed-" + i)).RecordExists);
        }
    }

    [Fact]
    public async Task Two_writes_of_one_grain_in_one_commit_are_applied_in_order()
    {
        // Two activations of one grain racing (never one activation: Orleans awaits a write before the next): both
        // writes carry the same ETag; the first queued wins, the second fails, in one commit.
        var storage = Open(_dataSource!, writers: 1);
        var first = new GrainState<SharedObjectState>(new SharedObjectState());
        await storage.WriteStateAsync("object", _grain, first);
        var grain = GrainId.Create("object", "p/c/twice");
        var original = new GrainState<SharedObjectState>(new SharedObjectState());
        await storage.WriteStateAsync("object", grain, original);

        var release = await HoldCommitsAsync(storage, first);
        var winner = storage.WriteStateAsync("object", grain, new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 1 }) { ETag = original.ETag });
        var loser = storage.WriteStateAsync("object", grain, new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 2 }) { ETag = original.ETag });
        var other = storage.WriteStateAsync("object", GrainId.Create("object", "p/c/twice-other"), new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 3 }));
        await release();

        await winner;
        await other;
        await Assert.ThrowsAsync<InconsistentStateException>(() => loser);
        var read = new GrainState<SharedObjectState>();
        await Open(_dataSource!).ReadStateAsync("object", grain, read);
        Assert.Equal((1, "2"), (read.State!.Sequence, read.ETag));
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

    /// <summary>
    /// Holds the single writer of <paramref name="storage"/> in a commit (another transaction locks <see cref="GrainStorageConformance._grain"/>'s
    /// row, which <paramref name="state"/>'s write then waits for), so writes queued meanwhile go together in the next
    /// commit; the returned function lets it go and waits for that held write.
    /// </summary>
    private async Task<Func<Task>> HoldCommitsAsync(PostgresGrainStorage storage, GrainState<SharedObjectState> state)
    {
        var locker = await _dataSource!.OpenConnectionAsync();
        var lockTransaction = await locker.BeginTransactionAsync();
        await using (var lockRow = new NpgsqlCommand("SELECT 1 FROM vault_grain_state WHERE grain_id = $1 FOR UPDATE", locker, lockTransaction))
        {
            lockRow.Parameters.Add(new NpgsqlParameter { Value = _grain.ToString() });
            await lockRow.ExecuteScalarAsync();
        }

        var blocked = storage.WriteStateAsync("object", _grain, state);
        await Wait.UntilAsync(async () =>
        {
            await using var waiting = _dataSource.CreateCommand("SELECT count(*) FROM pg_locks WHERE NOT granted");
            return (long)(await waiting.ExecuteScalarAsync())! > 0;
        }, "the write of the locked row waiting for its lock");

        return async () =>
        {
            await lockTransaction.RollbackAsync();
            await lockTransaction.DisposeAsync();
            await locker.DisposeAsync();
            await blocked;
        };
    }
}
