using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>A shared object whose gateway dies: its connections leave presence within the feed lease and stay resumable.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class GatewayDeathTests(GrainClusterFixture fixture)
{
    [Fact]
    public async Task Connections_of_a_gateway_that_stops_renewing_leave_presence_and_can_resume_elsewhere()
    {
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");
        var (deadFeed, liveFeed) = (new RecordingObjectFeed(), new RecordingObjectFeed());
        var dead = fixture.Client.CreateObjectReference<IObjectFeedObserver>(deadFeed);
        var live = fixture.Client.CreateObjectReference<IObjectFeedObserver>(liveFeed);
        await grain.Subscribe(dead);
        await grain.Subscribe(live);
        await grain.Attach("ghost", "key-1", dead);
        await grain.Join("ghost", """{"n":1}""", null);
        await grain.SetItem(new SetItemCommand("a", "1", null, false, null, null));

        // The dead gateway reported that its sockets had everything up to now, then stopped renewing.
        var delivered = (await grain.Subscribe(dead, deliveredUpTo: 2)).Sequence;
        await grain.SetItem(new SetItemCommand("b", "2", null, false, null, null));
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!liveFeed.Events.Any(e => e.Kind == ObjectEventKind.PresenceLeave && e.ConnectionId == "ghost"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the dead gateway's member never left");
            await grain.Subscribe(live);
            await Task.Delay(TimeSpan.FromMilliseconds(50));
        }

        Assert.Empty(await grain.GetPresence());

        // Its client reconnects through another gateway and resumes: it gets what came after the reported cursor.
        await grain.Attach("new", "key-1", live);
        var resumed = await grain.Resume("ghost", "new", "key-1", long.MaxValue);
        Assert.True(resumed.Resumed);
        Assert.Contains(resumed.Missed, e => e.Kind == ObjectEventKind.SetItem && e.Key == "b");
        Assert.DoesNotContain(resumed.Missed, e => e.Sequence <= delivered && e.Key == "a");
    }

    [Fact]
    public async Task A_connection_taken_over_through_another_gateway_is_not_ended_by_the_first_gateways_late_cleanup()
    {
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");
        var first = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new RecordingObjectFeed());
        var second = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new RecordingObjectFeed());
        await grain.Subscribe(first);
        await grain.Subscribe(second);
        await grain.Attach("conn", "key-1", first);
        await grain.SetItem(new SetItemCommand("a", "1", null, false, null, null));

        // The client comes back through the second gateway while the first still holds the connection.
        await grain.Attach("fresh", "key-1", second);
        Assert.True((await grain.Resume("conn", "fresh", "key-1", long.MaxValue)).Resumed);
        await grain.Join("conn", """{"back":true}""", null);

        // The first gateway's socket finally times out and cleans up: the connection now belongs to the second.
        await grain.Detach("conn", 0, first);
        Assert.Single(await grain.GetPresence());

        // Someone else's key never takes a connection over.
        await grain.Attach("intruder", "key-2", first);
        Assert.False((await grain.Resume("conn", "intruder", "key-2", long.MaxValue)).Resumed);
        Assert.Single(await grain.GetPresence());
    }

    [Fact]
    public async Task A_gateway_whose_lease_lapsed_restores_its_connections_and_their_presence_is_announced_again()
    {
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");
        var (slowFeed, liveFeed) = (new RecordingObjectFeed(), new RecordingObjectFeed());
        var slow = fixture.Client.CreateObjectReference<IObjectFeedObserver>(slowFeed);
        var live = fixture.Client.CreateObjectReference<IObjectFeedObserver>(liveFeed);
        await grain.Subscribe(slow);
        await grain.Subscribe(live);
        await grain.Attach("member", "key-1", slow);
        await grain.Join("member", """{"n":1}""", null);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (!liveFeed.Events.Any(e => e.Kind == ObjectEventKind.PresenceLeave && e.ConnectionId == "member"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the lapsed feed's member never left");
            await grain.Subscribe(live);
            await Task.Delay(GrainClusterFixture.FeedLease / 5);
        }

        // The gateway was only slow: its renewal finds the feed forgotten and restores what it relays.
        Assert.False((await grain.Subscribe(slow)).WasSubscribed);
        await grain.RestoreFeed(slow, [new ConnectionRestore("member", "key-1", """{"n":1}""", null, null)]);
        await RenewingUntilAsync(grain, [slow, live], () => liveFeed.Events.Any(e => e.Kind == ObjectEventKind.PresenceJoin && e.ConnectionId == "member" && e.Sequence > 1), "the member's join announced again");
        Assert.Equal("member", Assert.Single(await grain.GetPresence()).ConnectionId);

        // Attached again through that feed: its gateway's own cleanup detaches it.
        await grain.Detach("member", 0, slow);
        Assert.Empty(await grain.GetPresence());
    }

    [Fact]
    public async Task A_feed_restored_while_its_lapse_is_being_processed_keeps_the_connections_the_lapse_has_not_reached()
    {
        var key = $"p/c/{Guid.NewGuid():N}";
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>(key);
        var (slowFeed, liveFeed) = (new RecordingObjectFeed(), new RecordingObjectFeed());
        var slow = fixture.Client.CreateObjectReference<IObjectFeedObserver>(slowFeed);
        var live = fixture.Client.CreateObjectReference<IObjectFeedObserver>(liveFeed);
        await grain.Subscribe(slow);
        await grain.Subscribe(live);
        foreach (var id in new[] { "a", "b" })
        {
            await grain.Attach(id, "key-1", slow);
            await grain.Join(id, $$"""{"n":"{{id}}"}""", null);
        }

        // A write held in flight: once the slow feed's lease lapses, the sweep takes its first connection out of presence
        // and then waits (its leave is published behind the write) before it gets to the second.
        var gate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        FlakyStorage.Gates[key] = gate;
        string left, notReached;
        try
        {
            var write = grain.SetItem(new SetItemCommand("x", "1", null, false, null, null));
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while ((await grain.GetPresence()).Count == 2)
            {
                Assert.True(DateTime.UtcNow < deadline, "the lapsed feed's first connection never left presence");
                await grain.Subscribe(live);
                await Task.Delay(GrainClusterFixture.FeedLease / 5);
            }

            notReached = Assert.Single(await grain.GetPresence()).ConnectionId;
            left = notReached == "a" ? "b" : "a";

            // The slow gateway's renewal arrives now: it finds its feed forgotten and restores both connections.
            Assert.False((await grain.Subscribe(slow)).WasSubscribed);
            var restore = grain.RestoreFeed(slow, [new ConnectionRestore("a", "key-1", """{"n":"a"}""", null, null), new ConnectionRestore("b", "key-1", """{"n":"b"}""", null, null)]);
            gate.SetResult();
            await write;
            await restore;
        }
        finally
        {
            FlakyStorage.Gates.TryRemove(key, out _);
            gate.TrySetResult();
        }

        // The sweep stops at the renewed feed: the connection it had not reached never left; the one it took out is back
        // and announced again.
        await RenewingUntilAsync(grain, [slow, live], () => liveFeed.Events.Any(e => e.Kind == ObjectEventKind.PresenceJoin && e.ConnectionId == left && e.Sequence > 3), "the restored member's join announced again");
        Assert.Equal(["a", "b"], (await grain.GetPresence()).Select(e => e.ConnectionId).Order());
        Assert.DoesNotContain(liveFeed.Events, e => e.Kind == ObjectEventKind.PresenceLeave && e.ConnectionId == notReached);
        Assert.Single(liveFeed.Events, e => e.Kind == ObjectEventKind.PresenceLeave && e.ConnectionId == left);

        // Both are attached through the slow feed again: its gateway's detaches end them.
        await grain.Detach(notReached, 0, slow);
        await grain.Detach(left, 0, slow);
        Assert.Empty(await grain.GetPresence());
    }

    [Fact]
    public async Task An_object_that_forgot_a_feed_gets_its_connections_back_without_presence_events()
    {
        // A fresh activation (as after its silo died) that never knew this feed.
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");
        var (gatewayFeed, otherFeed) = (new RecordingObjectFeed(), new RecordingObjectFeed());
        var gateway = fixture.Client.CreateObjectReference<IObjectFeedObserver>(gatewayFeed);
        var other = fixture.Client.CreateObjectReference<IObjectFeedObserver>(otherFeed);
        await grain.Subscribe(other);
        Assert.False((await grain.Subscribe(gateway)).WasSubscribed);

        await grain.RestoreFeed(gateway, [new ConnectionRestore("a", "key-1", """{"name":"A"}""", null, "user-a"), new ConnectionRestore("b", "key-1", null, null, null)]);
        var entry = Assert.Single(await grain.GetPresence());
        Assert.Equal(("a", "user-a"), (entry.ConnectionId, entry.VerifiedUserId));
        await grain.SetItem(new SetItemCommand("x", "1", null, false, null, null));
        await Wait.UntilAsync(() => Task.FromResult(otherFeed.Events.Any(e => e.Kind == ObjectEventKind.SetItem)), "a later write");
        Assert.DoesNotContain(otherFeed.Events, e => e.Kind == ObjectEventKind.PresenceJoin);

        // Both are attached: a resume of "b" by its owner from another gateway would find it, and its detach ends it.
        await grain.Detach("a", 1, gateway);
        Assert.Empty(await grain.GetPresence());
    }

    [Fact]
    public async Task A_restore_listing_a_connection_its_gateway_has_since_detached_does_not_bring_it_back()
    {
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");
        var feed = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new RecordingObjectFeed());
        await grain.Subscribe(feed);
        await grain.Attach("closing", "key-1", feed);
        await grain.Join("closing", """{"n":1}""", null);
        await grain.Attach("staying", "key-1", feed);

        // The gateway's restore list was taken before the socket closed; the socket's detach overtook the restore.
        await grain.Detach("closing", 0, feed);
        await grain.RestoreFeed(feed, [new ConnectionRestore("closing", "key-1", """{"n":1}""", null, null), new ConnectionRestore("staying", "key-1", """{"s":1}""", null, null)]);

        Assert.Equal("staying", Assert.Single(await grain.GetPresence()).ConnectionId);
    }

    /// <summary>
    /// Polls <paramref name="condition"/>, renewing the feeds that must stay subscribed before each look, as their gateways
    /// would: a cold or loaded test host can take longer than the test cluster's short feed lease.
    /// </summary>
    private static async Task RenewingUntilAsync(ISharedObjectGrain grain, IObjectFeedObserver[] feeds, Func<bool> condition, string what) =>
        await Wait.UntilAsync(
            async () =>
            {
                foreach (var feed in feeds)
                {
                    await grain.Subscribe(feed);
                }

                return condition();
            },
            what);
}
