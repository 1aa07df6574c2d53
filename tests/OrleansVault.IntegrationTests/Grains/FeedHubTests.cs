using System.Collections.Concurrent;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>Objects push to the feeds of a gateway that named a hub through that hub, batched by the silo.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class FeedHubTests(GrainClusterFixture fixture)
{
    [Fact]
    public async Task Feeds_subscribed_with_a_hub_get_their_batches_through_it_and_others_directly()
    {
        var (one, two) = (Object(), Object());
        var hub = new RecordingHub();
        var hubReference = fixture.Client.CreateObjectReference<IFeedHubObserver>(hub);
        var (oneFeed, twoFeed, directFeed) = (new RecordingObjectFeed(), new RecordingObjectFeed(), new RecordingObjectFeed());
        var oneReference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(oneFeed);
        var twoReference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(twoFeed);
        var directReference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(directFeed);
        await one.Subscribe(oneReference, 0, hubReference);
        await two.Subscribe(twoReference, 0, hubReference);
        await two.Subscribe(directReference);

        await one.SetItem(new SetItemCommand("a", "1", null, false, null, null));
        await two.SetItem(new SetItemCommand("b", "2", null, false, null, null));
        await two.SetItem(new SetItemCommand("c", "3", null, false, null, null));

        await WaitForAsync(() => hub.Keys(twoReference).Count == 2 && hub.Keys(oneReference).Count == 1, "the hub never got both objects' batches");
        Assert.Equal(["a"], hub.Keys(oneReference));
        Assert.Equal(["b", "c"], hub.Keys(twoReference));
        await WaitForAsync(() => directFeed.Events.Count == 2, "the feed without a hub never got its batches");
        Assert.Empty(oneFeed.Events);
        Assert.Empty(twoFeed.Events);
    }

    [Fact]
    public async Task A_restore_renews_the_feed_without_losing_its_hub()
    {
        var grain = Object();
        var hub = new RecordingHub();
        var hubReference = fixture.Client.CreateObjectReference<IFeedHubObserver>(hub);
        var feed = new RecordingObjectFeed();
        var reference = fixture.Client.CreateObjectReference<IObjectFeedObserver>(feed);
        await grain.Subscribe(reference, 0, hubReference);
        await grain.RestoreFeed(reference, [new ConnectionRestore("member", "key-1", null, null, null)]);

        await grain.SetItem(new SetItemCommand("a", "1", null, false, null, null));

        await WaitForAsync(() => hub.Keys(reference).Count == 1, "the push after the restore did not go through the hub");
        Assert.Empty(feed.Events);
    }

    private ISharedObjectGrain Object() => fixture.Client.GetGrain<ISharedObjectGrain>($"p/c/{Guid.NewGuid():N}");

    private static Task WaitForAsync(Func<bool> condition, string what) =>
        Wait.UntilAsync(() => Task.FromResult(condition()), what, TimeSpan.FromSeconds(10));

    /// <summary>A gateway hub stand-in that records the keys of the events it got, per feed.</summary>
    private sealed class RecordingHub : IFeedHubObserver
    {
        private readonly ConcurrentQueue<FeedPush> _pushes = new();

        public Task OnPushes(IReadOnlyList<FeedPush> pushes)
        {
            foreach (var push in pushes)
            {
                _pushes.Enqueue(push);
            }

            return Task.CompletedTask;
        }

        public List<string?> Keys(IObjectFeedObserver feed) =>
            [.. _pushes.Where(p => p.Feed == feed.GetGrainId()).SelectMany(p => p.Batch.Events).Where(e => e.Kind == ObjectEventKind.SetItem).Select(e => e.Key)];
    }
}
