using Orleans.Runtime;
using Orleans.Storage;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Persistence;

/// <summary>
/// What every grain storage of ours must do (embedded SQLite, cluster PostgreSQL): round trips through encryption,
/// ETag races lost by the stale writer alone, group commit that keeps persist-before-acknowledge, drain on dispose.
/// </summary>
public abstract class GrainStorageConformance
{
    protected readonly GrainId _grain = GrainId.Create("object", "p/c/o");

    /// <summary>A new storage instance over the same database as every other one this test makes.</summary>
    protected abstract IGrainStorage NewStorage();

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

    [Fact]
    public async Task Concurrent_writes_commit_together_and_a_stale_one_fails_alone()
    {
        var storage = NewStorage();
        var stale = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 1 });
        await storage.WriteStateAsync("object", _grain, stale);
        var newer = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 2 }) { ETag = stale.ETag };
        await storage.WriteStateAsync("object", _grain, newer);

        var grains = Enumerable.Range(0, 300).Select(i => GrainId.Create("object", "p/c/many-" + i)).ToArray();
        var states = grains.Select(_ => new GrainState<SharedObjectState>(new SharedObjectState())).ToArray();
        for (var i = 0; i < grains.Length; i++)
        {
            states[i].State!.Sequence = i;
        }

        var writes = grains.Select((g, i) => storage.WriteStateAsync("object", g, states[i])).ToList();
        var staleWrite = storage.WriteStateAsync("object", _grain, stale);
        await Task.WhenAll(writes);
        await Assert.ThrowsAsync<InconsistentStateException>(() => staleWrite);

        var reader = NewStorage();
        for (var i = 0; i < grains.Length; i++)
        {
            var read = new GrainState<SharedObjectState>();
            await reader.ReadStateAsync("object", grains[i], read);
            Assert.Equal(i, read.State!.Sequence);
            Assert.Equal("1", read.ETag);
        }

        var kept = new GrainState<SharedObjectState>();
        await reader.ReadStateAsync("object", _grain, kept);
        Assert.Equal(2, kept.State!.Sequence);
    }

    [Fact]
    public async Task Disposing_commits_the_writes_already_queued()
    {
        var storage = NewStorage();

        // The first write fetches the data key; after it, writes are queued as they are called.
        await storage.WriteStateAsync("object", _grain, new GrainState<SharedObjectState>(new SharedObjectState()));
        var pending = Enumerable.Range(0, 50)
            .Select(i => storage.WriteStateAsync("object", GrainId.Create("object", "p/c/d-" + i), new GrainState<SharedObjectState>(new SharedObjectState { Sequence = i })))
            .ToList();
        await ((IAsyncDisposable)storage).DisposeAsync();
        await Task.WhenAll(pending);

        var read = new GrainState<SharedObjectState>();
        await NewStorage().ReadStateAsync("object", GrainId.Create("object", "p/c/d-49"), read);
        Assert.Equal(49, read.State!.Sequence);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => storage.WriteStateAsync("object", _grain, new GrainState<SharedObjectState>(new SharedObjectState())));
    }
}
