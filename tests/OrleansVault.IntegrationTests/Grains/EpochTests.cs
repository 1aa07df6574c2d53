using Orleans.Core.Internal;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

[Collection(GrainClusterCollection.Name)]
public sealed class EpochTests(GrainClusterFixture fixture)
{
    private static SetItemCommand Set(string key, string valueJson) => new(key, valueJson, null, false, null, null);

    [Fact]
    public async Task A_cleanly_deactivated_object_keeps_its_epoch_sequence_and_history()
    {
        var key = new ObjectAddress("proj", "cls", "sealed-" + Guid.NewGuid().ToString("N")).GrainKey;
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        await grain.SetItem(Set("a", "1"));
        await grain.SendMessage(new MessageCommand("\"ephemeral\"", null, null));
        var before = await grain.Attach("c", "k");

        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var after = await grain.Attach("c2", "k");
        Assert.Equal(before.Epoch, after.Epoch);
        Assert.Equal(before.Sequence, after.Sequence);
        var history = await grain.GetEventsAfter(0);
        Assert.Equal([ObjectEventKind.SetItem, ObjectEventKind.Message], history!.Select(e => e.Kind));

        // A read-only visit to a sealed object leaves storage alone, and the object still resumes its numbering.
        var writes = FlakyStorage.Writes[key];
        await grain.GetItem("a");
        await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
        var again = await grain.Attach("c3", "k");
        Assert.Equal(writes, FlakyStorage.Writes[key]);
        Assert.Equal((before.Epoch, before.Sequence), (again.Epoch, again.Sequence));
    }

    [Fact]
    public async Task An_object_that_could_not_seal_starts_a_new_epoch_so_numbers_are_never_reused()
    {
        var id = "flaky-" + Guid.NewGuid().ToString("N");
        var key = new ObjectAddress("proj", "cls", id).GrainKey;
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        await grain.SetItem(Set("a", "1"));
        await grain.SendMessage(new MessageCommand("\"not stored on its own\"", null, null));
        var before = await grain.Attach("c", "k");

        FlakyStorage.FailingKeys[key] = true;
        try
        {
            await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
            var after = await grain.Attach("c2", "k");
            Assert.NotEqual(before.Epoch, after.Epoch);
            Assert.Equal("1", (await grain.GetItem("a"))!.ValueJson);
        }
        finally
        {
            FlakyStorage.FailingKeys.TryRemove(key, out _);
        }
    }

    [Fact]
    public async Task A_failed_write_is_reported_and_leaves_nothing_half_applied()
    {
        var key = new ObjectAddress("proj", "cls", "fail-" + Guid.NewGuid().ToString("N")).GrainKey;
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        await grain.SetItem(Set("a", "1"));
        FlakyStorage.FailingKeys[key] = true;
        try
        {
            await Assert.ThrowsAnyAsync<Exception>(() => grain.SetItem(Set("a", "2")));
        }
        finally
        {
            FlakyStorage.FailingKeys.TryRemove(key, out _);
        }

        Assert.Equal("1", (await grain.GetItem("a"))!.ValueJson);
    }

    [Fact]
    public async Task A_feed_that_finds_a_new_epoch_can_fetch_every_event_of_it_from_where_the_epoch_starts()
    {
        var key = new ObjectAddress("proj", "cls", "epoch-feed-" + Guid.NewGuid().ToString("N")).GrainKey;
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        await grain.SetItem(Set("a", "1"));
        await grain.SetItem(Set("a", "2"));
        var before = await grain.Attach("c", "k");

        FlakyStorage.FailingKeys[key] = true;
        try
        {
            await grain.Cast<IGrainManagementExtension>().DeactivateOnIdle();
            await grain.GetItem("a");
        }
        finally
        {
            FlakyStorage.FailingKeys.TryRemove(key, out _);
        }

        // Unsealed: a new epoch that numbers on from the stored sequence; events pushed before a feed re-subscribes are
        // fetched from EpochStart, not from 0 (which history of this epoch cannot answer).
        await grain.SetItem(Set("a", "3"));
        await grain.SendMessage(new MessageCommand("\"m\"", null, null));
        var reference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new RecordingFeed());
        try
        {
            var position = await grain.Subscribe(reference);
            Assert.NotEqual(before.Epoch, position.Epoch);
            Assert.False(position.WasSubscribed);
            Assert.Null(await grain.GetEventsAfter(0));
            var missed = await grain.GetEventsAfter(position.EpochStart);
            Assert.Equal([ObjectEventKind.SetItem, ObjectEventKind.Message], missed!.Select(e => e.Kind));
            Assert.Equal(position.Sequence, missed![^1].Sequence);
        }
        finally
        {
            await grain.Unsubscribe(reference);
            fixture.Client.DeleteObjectReference<IObjectFeedObserver>(reference);
        }
    }

    [Fact]
    public async Task Writes_that_arrive_while_one_is_being_stored_share_the_next_storage_write_and_are_numbered_in_order()
    {
        var key = new ObjectAddress("proj", "cls", "group-" + Guid.NewGuid().ToString("N")).GrainKey;
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        var recorder = new RecordingObjectFeed();
        var feed = fixture.Client.CreateObjectReference<IObjectFeedObserver>(recorder);
        await grain.Subscribe(feed);
        await grain.SetItem(Set("warm", "0"));
        var writesBefore = FlakyStorage.Writes[key];

        // Hold the next storage write; 50 writes arrive meanwhile.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FlakyStorage.Gates[key] = gate;
        var first = grain.SetItem(Set("k0", "0"));
        await Wait.UntilAsync(() => Task.FromResult(FlakyStorage.Writes[key] == writesBefore + 1), "the first write in flight");
        var rest = Enumerable.Range(1, 49).Select(i => grain.SetItem(Set("k" + i, i.ToString(System.Globalization.CultureInfo.InvariantCulture)))).ToList();

        // Nothing is acknowledged, readable or published before its write is stored.
        var readWhileHeld = grain.GetItem("k0");
        await Task.Delay(100);
        Assert.False(first.IsCompleted);
        Assert.False(readWhileHeld.IsCompleted);
        Assert.DoesNotContain(recorder.Events, e => e.Key == "k0");
        Assert.Empty((await grain.GetEventsAfter(1))!);

        FlakyStorage.Gates.TryRemove(key, out _);
        gate.SetResult();
        await first;
        await Task.WhenAll(rest);
        Assert.Equal("0", (await readWhileHeld)!.ValueJson);

        // One write for k0, one shared by the 49 that waited for it.
        Assert.Equal(writesBefore + 2, FlakyStorage.Writes[key]);
        await Wait.UntilAsync(() => Task.FromResult(recorder.Events.Count(e => e.Kind == ObjectEventKind.SetItem) == 51), "every event published");
        // Numbered in arrival order without gaps or repeats (one-way pushes may overtake each other on the way; a
        // gateway feed puts them back in order from history).
        var sequences = recorder.Events.Select(e => e.Sequence).Order().ToList();
        Assert.Equal(Enumerable.Range(1, 51).Select(i => (long)i), sequences);
        Assert.Equal("k0", recorder.Events.Single(e => e.Sequence == 2).Key);
        Assert.Equal(50, (await grain.GetAll("k")).Count);
    }

    [Fact]
    public async Task When_a_shared_storage_write_fails_every_write_waiting_for_it_fails_and_none_is_published()
    {
        var key = new ObjectAddress("proj", "cls", "group-fail-" + Guid.NewGuid().ToString("N")).GrainKey;
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        var recorder = new RecordingObjectFeed();
        var feed = fixture.Client.CreateObjectReference<IObjectFeedObserver>(recorder);
        await grain.Subscribe(feed);
        await grain.SetItem(Set("a", "1"));
        var writesBefore = FlakyStorage.Writes[key];

        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FlakyStorage.Gates[key] = gate;
        var first = grain.SetItem(Set("a", "2"));
        await Wait.UntilAsync(() => Task.FromResult(FlakyStorage.Writes[key] == writesBefore + 1), "the first write in flight");
        var waiting = Enumerable.Range(0, 10).Select(i => grain.SetItem(Set("b" + i, "1"))).ToList();
        FlakyStorage.FailingKeys[key + "#after"] = true;
        try
        {
            gate.SetResult();
            await Assert.ThrowsAnyAsync<Exception>(() => first);
            foreach (var call in waiting)
            {
                await Assert.ThrowsAnyAsync<Exception>(() => call);
            }
        }
        finally
        {
            FlakyStorage.FailingKeys.TryRemove(key + "#after", out _);
            FlakyStorage.Gates.TryRemove(key, out _);
        }

        // Never acknowledged, never published (a write whose storage call failed may still have landed, as the
        // "reported failed or present" rule allows). With storage healthy again the object serves writes as before.
        Assert.DoesNotContain(recorder.Events, e => e.Key is not null && e.Key.StartsWith('b'));
        await Wait.UntilAsync(async () =>
        {
            try
            {
                await grain.SetItem(Set("c", "3"));
                return (await grain.GetItem("c"))?.ValueJson == "3";
            }
            catch (Exception error) when (error is not OutOfMemoryException)
            {
                return false;
            }
        }, "writes succeeding again after the failure");

    }
}
