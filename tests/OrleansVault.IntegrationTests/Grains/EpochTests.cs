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
}
