using System.Collections.Concurrent;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>A shared object whose gateway dies: its connections leave presence within the feed lease and stay resumable.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class GatewayDeathTests(GrainClusterFixture fixture)
{
    private sealed class Feed : IObjectFeedObserver
    {
        public ConcurrentQueue<ObjectEvent> Events { get; } = new();

        public Task OnEvents(ObjectEventBatch batch)
        {
            foreach (var e in batch.Events)
            {
                Events.Enqueue(e);
            }

            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task Connections_of_a_gateway_that_stops_renewing_leave_presence_and_can_resume_elsewhere()
    {
        var grain = fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");
        var (deadFeed, liveFeed) = (new Feed(), new Feed());
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
            await Task.Delay(GrainClusterFixture.FeedLease / 5);
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
        var first = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new Feed());
        var second = fixture.Client.CreateObjectReference<IObjectFeedObserver>(new Feed());
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
}

