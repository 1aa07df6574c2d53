using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.Serialization;
using Orleans.Storage;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Persistence;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Persistence;

public sealed class SqliteGrainStorageTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ov-sqlite-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services = new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(SharedObjectState).Assembly)).BuildServiceProvider();
    private readonly GrainId _grain = GrainId.Create("object", "p/c/o");

    private SqliteGrainStorage NewStorage() => new(
        "VaultStore",
        new SqliteStorageOptions { DataDirectory = _directory, Synchronous = "FULL" },
        _services.GetRequiredService<Serializer>(),
        NullLogger<SqliteGrainStorage>.Instance);

    [Fact]
    public async Task State_written_by_one_instance_is_read_back_by_another()
    {
        var state = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 7, Epoch = 3 });
        state.State!.Items["k"] = new ItemView("{\"a\":[1,false,null]}", 1, 2, 3, null);
        await NewStorage().WriteStateAsync("object", _grain, state);

        var read = new GrainState<SharedObjectState>();
        await NewStorage().ReadStateAsync("object", _grain, read);
        Assert.True(read.RecordExists);
        Assert.Equal(7, read.State!.Sequence);
        Assert.Equal("{\"a\":[1,false,null]}", read.State!.Items["k"].ValueJson);
        Assert.Equal(state.ETag, read.ETag);
    }

    [Fact]
    public async Task A_missing_row_reads_as_a_fresh_state()
    {
        var read = new GrainState<SharedObjectState>();
        await NewStorage().ReadStateAsync("object", GrainId.Create("object", "nobody"), read);
        Assert.False(read.RecordExists);
        Assert.Null(read.ETag);
        Assert.Empty(read.State!.Items);
    }

    [Fact]
    public async Task A_stale_etag_cannot_overwrite_a_newer_write()
    {
        var storage = NewStorage();
        var first = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 1 });
        await storage.WriteStateAsync("object", _grain, first);
        var stale = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 99 }) { ETag = first.ETag };
        first.State!.Sequence = 2;
        await storage.WriteStateAsync("object", _grain, first);

        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("object", _grain, stale));
        var doubleInsert = new GrainState<SharedObjectState>(new SharedObjectState());
        await Assert.ThrowsAsync<InconsistentStateException>(() => storage.WriteStateAsync("object", _grain, doubleInsert));

        var read = new GrainState<SharedObjectState>();
        await storage.ReadStateAsync("object", _grain, read);
        Assert.Equal(2, read.State!.Sequence);
    }

    [Fact]
    public async Task Clear_deletes_the_row()
    {
        var storage = NewStorage();
        var state = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 5 });
        await storage.WriteStateAsync("object", _grain, state);
        await storage.ClearStateAsync("object", _grain, state);
        var read = new GrainState<SharedObjectState>();
        await storage.ReadStateAsync("object", _grain, read);
        Assert.False(read.RecordExists);
    }

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
