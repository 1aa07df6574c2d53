using System.Collections.Concurrent;
using OrleansVault.Errors;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

[Collection(GrainClusterCollection.Name)]
public sealed class SharedObjectGrainTests(GrainClusterFixture fixture)
{
    private readonly string _key = new ObjectAddress("proj", "cls", "o-" + Guid.NewGuid().ToString("N")).GrainKey;

    private ISharedObjectGrain Grain => fixture.Client.GetGrain<ISharedObjectGrain>(_key);

    private static SetItemCommand Set(string key, string valueJson, long? ttl = null) => new(key, valueJson, ttl, false, null, null);

    [Fact]
    public async Task Every_event_gets_the_next_sequence_number_and_reaches_subscribed_feeds_in_order()
    {
        var feed = new RecordingFeed();
        var reference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(feed);
        try
        {
            var start = (await Grain.Attach("c1", "key-a")).Sequence;
            var position = await Grain.Subscribe(reference);
            Assert.False(position.WasSubscribed);
            Assert.Equal(start, position.Sequence);

            await Grain.SetItem(Set("a", "1"));
            await Grain.SetItems([Set("b", "2"), Set("c", "3")]);
            await Grain.SendMessage(new MessageCommand("\"hi\"", null, "c1"));
            await Grain.Clear();

            await Wait.UntilAsync(() => Task.FromResult(feed.Received.Count == 7), "seven events");
            var events = feed.Received.ToArray();
            Assert.Equal(Enumerable.Range(1, 7).Select(i => start + i), events.Select(e => e.Sequence));
            Assert.Equal(
                [ObjectEventKind.SetItem, ObjectEventKind.SetItem, ObjectEventKind.SetItem, ObjectEventKind.Message, ObjectEventKind.RemoveItem, ObjectEventKind.RemoveItem, ObjectEventKind.RemoveItem],
                events.Select(e => e.Kind));
            Assert.Equal("c1", events[3].ExcludedConnectionId);
            Assert.All(feed.Epochs, epoch => Assert.Equal(position.Epoch, epoch));
        }
        finally
        {
            await Grain.Unsubscribe(reference);
            fixture.Client.DeleteObjectReference<IObjectFeedObserver>(reference);
        }
    }

    [Fact]
    public async Task A_renewed_feed_is_known_and_an_unsubscribed_one_is_not()
    {
        var reference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new RecordingFeed());
        try
        {
            Assert.False((await Grain.Subscribe(reference)).WasSubscribed);
            Assert.True((await Grain.Subscribe(reference)).WasSubscribed);
            await Grain.Unsubscribe(reference);
            Assert.False((await Grain.Subscribe(reference)).WasSubscribed);
        }
        finally
        {
            await Grain.Unsubscribe(reference);
            fixture.Client.DeleteObjectReference<IObjectFeedObserver>(reference);
        }
    }

    [Fact]
    public async Task A_feed_that_stops_renewing_is_dropped_after_its_lease()
    {
        var reference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new RecordingFeed());
        try
        {
            await Grain.Subscribe(reference);

            // Each probe renews, so probe no more often than a lease plus a housekeeping tick: the one after a lapse says "unknown".
            var spacing = GrainClusterFixture.FeedLease + GrainClusterFixture.PurgeInterval + GrainClusterFixture.PurgeInterval;
            var next = DateTime.UtcNow + spacing;
            await Wait.UntilAsync(
                async () =>
                {
                    if (DateTime.UtcNow < next)
                    {
                        return false;
                    }

                    next = DateTime.UtcNow + spacing;
                    return !(await Grain.Subscribe(reference)).WasSubscribed;
                },
                "the lapsed feed to be dropped");
        }
        finally
        {
            await Grain.Unsubscribe(reference);
            fixture.Client.DeleteObjectReference<IObjectFeedObserver>(reference);
        }
    }

    [Fact]
    public async Task Remove_emits_one_event_per_name_and_clear_one_per_existing_key()
    {
        var before = (await Grain.Attach("c", "key-a")).Sequence;
        await Grain.SetItem(Set("a", "1"));
        await Grain.SetItem(Set("short", "1", ttl: 1));
        await Wait.UntilAsync(async () => await Grain.GetItem("short") is null, "expiry");
        await Grain.RemoveItems(["a", "never-existed"]);
        await Grain.SetItem(Set("b", "1"));
        await Grain.Clear();
        var events = await Grain.GetEventsAfter(before);
        Assert.NotNull(events);
        Assert.Equal(["a", "short", "a", "never-existed", "b", "b"], events!.Select(e => e.Key));
        Assert.Equal(ObjectEventKind.RemoveItem, events[^1].Kind);
    }

    [Fact]
    public async Task Presence_keeps_one_entry_per_connection_and_leaves_once()
    {
        await Grain.Join("c1", "{\"n\":1}", null);
        await Grain.Join("c1", "{\"n\":2}", null);
        await Grain.Join("c2", "{\"n\":3}", null);
        var presence = await Grain.GetPresence();
        Assert.Equal(["c1", "c2"], presence.Select(p => p.ConnectionId));
        Assert.Equal("{\"n\":2}", presence[0].DataJson);

        var before = (await Grain.Attach("x", "key-a")).Sequence;
        await Grain.Leave("c1");
        await Grain.Detach("c1", 0);
        await Grain.Leave("c1");
        var events = await Grain.GetEventsAfter(before);
        var leave = Assert.Single(events!);
        Assert.Equal(ObjectEventKind.PresenceLeave, leave.Kind);
        Assert.Equal("{\"n\":2}", leave.PayloadJson);
        Assert.Equal(["c2"], (await Grain.GetPresence()).Select(p => p.ConnectionId));
    }

    [Fact]
    public async Task Resume_replays_the_gap_without_the_connections_own_messages()
    {
        var attached = await Grain.Attach("old", "key-a");
        await Grain.SetItem(Set("seen", "1"));
        var cursor = attached.Sequence + 1;
        await Grain.Detach("old", cursor);
        await Grain.SetItem(Set("missed", "2"));
        await Grain.SendMessage(new MessageCommand("\"mine\"", null, "old"));
        await Grain.SendMessage(new MessageCommand("\"theirs\"", null, "other"));
        var now = (await Grain.Attach("new", "key-a")).Sequence;

        // Connection ids are public; only the key that owned the connection may resume it.
        Assert.False((await Grain.Resume("old", "new", "key-b", now)).Resumed);
        var result = await Grain.Resume("old", "new", "key-a", now);
        Assert.True(result.Resumed);
        Assert.Equal("old", result.ConnectionId);
        Assert.Equal(["setItem:missed", "message:\"theirs\""], result.Missed.Select(e => e.Kind == ObjectEventKind.SetItem ? $"setItem:{e.Key}" : $"message:{e.PayloadJson}"));

        // A connection that is attached again cannot be resumed twice.
        Assert.False((await Grain.Resume("old", "third", "key-a", now)).Resumed);
    }

    [Fact]
    public async Task Resume_is_refused_after_the_window_and_for_unknown_connections()
    {
        var attached = await Grain.Attach("gone", "key-a");
        await Grain.Detach("gone", attached.Sequence);
        Assert.False((await Grain.Resume("never", "n1", "key-a", attached.Sequence)).Resumed);
        await Wait.UntilAsync(async () => !(await Grain.Resume("gone", "n2", "key-a", attached.Sequence)).Resumed, "resume window to pass");
    }

    [Fact]
    public async Task History_is_bounded_and_older_cursors_are_not_covered()
    {
        var start = (await Grain.Attach("h", "key-a")).Sequence;
        for (var i = 0; i < 60; i++)
        {
            await Grain.SetItem(Set("k", i.ToString(System.Globalization.CultureInfo.InvariantCulture)));
        }

        Assert.Null(await Grain.GetEventsAfter(start));
        var recent = await Grain.GetEventsAfter(start + 20);
        Assert.Equal(40, recent!.Count);
        Assert.Empty((await Grain.GetEventsAfter(start + 60))!);
    }

    [Fact]
    public async Task Conditional_writes_compare_updated_at_and_updated_at_always_moves_forward()
    {
        var first = await Grain.SetItem(Set("k", "1"));
        var second = await Grain.SetItem(Set("k", "2"));
        Assert.True(second!.UpdatedAt > first!.UpdatedAt);
        Assert.Equal(first.CreatedAt, second.CreatedAt);

        var error = await Assert.ThrowsAsync<VaultException>(() => Grain.SetItem(new SetItemCommand("k", "3", null, false, first.UpdatedAt, null)));
        Assert.Equal(ErrorCodes.UpdatedAtMismatch, error.Code);
        Assert.Equal("2", (await Grain.GetItem("k"))!.ValueJson);
        Assert.Null(await Grain.SetItem(new SetItemCommand("k", "4", null, true, null, null)));
    }

    [Fact]
    public async Task Concurrent_atomic_operations_from_many_callers_are_all_applied()
    {
        var pushes = Enumerable.Range(0, 50).Select(i => Grain.Apply(new AtomicCommand("list", AtomicOperation.Push, $"{{\"value\":{i}}}", null, null)));
        await Task.WhenAll(pushes);
        var list = System.Text.Json.JsonDocument.Parse((await Grain.GetItem("list"))!.ValueJson).RootElement;
        Assert.Equal(Enumerable.Range(0, 50), list.EnumerateArray().Select(e => e.GetInt32()).Order());
    }
}

/// <summary>A feed that records what the object pushes to it.</summary>
public sealed class RecordingFeed : IObjectFeedObserver
{
    public ConcurrentQueue<ObjectEvent> Received { get; } = new();

    public ConcurrentQueue<long> Epochs { get; } = new();

    public Task OnEvents(ObjectEventBatch batch)
    {
        Epochs.Enqueue(batch.Epoch);
        foreach (var e in batch.Events)
        {
            Received.Enqueue(e);
        }

        return Task.CompletedTask;
    }
}
