using System.Collections.Concurrent;
using OrleansVault.Channels;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>Channel grains in a real (in-process) cluster: presence across gateway feeds, leases, caps, webhooks.</summary>
[Collection(GrainClusterCollection.Name)]
public sealed class ChannelGrainTests(GrainClusterFixture fixture)
{
    private sealed class Feed : IChannelFeedObserver
    {
        public ConcurrentQueue<ChannelEvent> Events { get; } = new();

        public Task OnEvents(ChannelEventBatch batch)
        {
            foreach (var e in batch.Events)
            {
                Events.Enqueue(e);
            }

            return Task.CompletedTask;
        }
    }

    private async Task<string> NewAppAsync(int maxMembers = 1000)
    {
        var appId = "app" + Guid.NewGuid().ToString("N")[..8];
        await fixture.Client.GetGrain<IPusherAppsGrain>(IPusherAppsGrain.Key).Upsert(new PusherApp(
            appId, appId + "-key", new byte[32], ClientEvents: true, AuthorizedConnections: false, ReplayProtection: false,
            SubscriptionCount: false, maxMembers, Enabled: true, [new PusherWebhookTarget("http://127.0.0.1:1/hooks", [])]));
        return appId;
    }

    [Fact]
    public async Task Members_of_a_gateway_that_stops_renewing_are_removed_when_its_lease_lapses()
    {
        var appId = await NewAppAsync();
        var channel = fixture.Client.GetGrain<IChannelGrain>($"{appId}/presence-room");
        var (deadFeed, liveFeed) = (new Feed(), new Feed());
        var dead = fixture.Client.CreateObjectReference<IChannelFeedObserver>(deadFeed);
        var live = fixture.Client.CreateObjectReference<IChannelFeedObserver>(liveFeed);

        await channel.Subscribe(dead, new ChannelSubscription("1.1", new ChannelMember("ghost", null)));
        var joined = await channel.Subscribe(live, new ChannelSubscription("2.2", new ChannelMember("alive", """{"n":1}""")));
        Assert.Equal(["ghost", "alive"], joined.Members!.Select(m => m.UserId));

        // Only the live gateway renews, from here on (its lease is short); the other one "died".
        await Wait.UntilAsync(
            async () =>
            {
                Assert.True(await channel.RenewFeed(live));
                return deadFeed.Events.Any(e => e.Kind == ChannelEventKind.MemberAdded && e.UserId == "alive");
            },
            "member_added on the other feed");

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (!liveFeed.Events.Any(e => e.Kind == ChannelEventKind.MemberRemoved && e.UserId == "ghost"))
        {
            Assert.True(DateTime.UtcNow < deadline, "the ghost member was never removed");
            Assert.True(await channel.RenewFeed(live));
            await Task.Delay(GrainClusterFixture.ChannelFeedLease / 5);
        }

        Assert.Equal(["alive"], await channel.GetUserIds());
        Assert.Equal(new ChannelInfo(true, 1, 1), await channel.GetInfo());
        Assert.False(await channel.RenewFeed(dead));
        Assert.Contains(RecordedWebhooks.Instance.Events, w => w.AppId == appId && w.Event is { Name: "member_removed", UserId: "ghost" });

        // The "dead" gateway was only slow: it restores its sockets, and everyone hears the member is back.
        await channel.Restore(dead, [new ChannelSubscription("1.1", new ChannelMember("ghost", null))]);
        Assert.Equal(["alive", "ghost"], (await channel.GetUserIds()).Order());
        Assert.True(await channel.RenewFeed(dead));
        await Wait.UntilAsync(() => Task.FromResult(liveFeed.Events.Any(e => e.Kind == ChannelEventKind.MemberAdded && e.UserId == "ghost")), "member_added after the restore");
    }

    [Fact]
    public async Task A_user_with_several_sockets_is_one_member_until_the_last_leaves()
    {
        var appId = await NewAppAsync();
        var channel = fixture.Client.GetGrain<IChannelGrain>($"{appId}/presence-multi");
        var observer = new Feed();
        var feed = fixture.Client.CreateObjectReference<IChannelFeedObserver>(observer);
        await channel.Subscribe(feed, new ChannelSubscription("1.1", new ChannelMember("u", null)));
        await channel.Subscribe(feed, new ChannelSubscription("1.2", new ChannelMember("u", null)));
        Assert.Equal(new ChannelInfo(true, 2, 1), await channel.GetInfo());
        await channel.Unsubscribe("1.1");
        Assert.Equal(new ChannelInfo(true, 1, 1), await channel.GetInfo());
        await channel.Unsubscribe("1.2");
        await channel.Unsubscribe("1.2");
        Assert.Equal(new ChannelInfo(false, 0, 0), await channel.GetInfo());
        Assert.Single(observer.Events, e => e.Kind == ChannelEventKind.MemberAdded);
        Assert.Single(RecordedWebhooks.Instance.Events, w => w.AppId == appId && w.Event.Name == "channel_vacated");
    }

    [Fact]
    public async Task A_full_presence_channel_refuses_new_users_but_not_more_sockets_of_its_members()
    {
        var appId = await NewAppAsync(maxMembers: 2);
        var channel = fixture.Client.GetGrain<IChannelGrain>($"{appId}/presence-small");
        var feed = fixture.Client.CreateObjectReference<IChannelFeedObserver>(new Feed());
        Assert.Null((await channel.Subscribe(feed, new ChannelSubscription("1.1", new ChannelMember("a", null)))).Refusal);
        Assert.Null((await channel.Subscribe(feed, new ChannelSubscription("1.2", new ChannelMember("b", null)))).Refusal);
        Assert.NotNull((await channel.Subscribe(feed, new ChannelSubscription("1.3", new ChannelMember("c", null)))).Refusal);
        Assert.Null((await channel.Subscribe(feed, new ChannelSubscription("1.4", new ChannelMember("a", null)))).Refusal);
        Assert.Equal(["a", "b"], await channel.GetUserIds());
    }

    [Fact]
    public async Task A_channel_that_lost_its_subscribers_gets_them_back_from_the_gateway_without_member_events()
    {
        var appId = await NewAppAsync();
        var channel = fixture.Client.GetGrain<IChannelGrain>($"{appId}/presence-restore");
        var observer = new Feed();
        var feed = fixture.Client.CreateObjectReference<IChannelFeedObserver>(observer);
        await channel.Restore(feed, [new ChannelSubscription("9.1", new ChannelMember("x", null)), new ChannelSubscription("9.2", new ChannelMember("y", null))]);
        Assert.Equal(new ChannelInfo(true, 2, 2), await channel.GetInfo());
        Assert.True(await channel.RenewFeed(feed));
        Assert.Empty(observer.Events);
    }

    [Fact]
    public async Task Client_events_carry_their_sender_and_leave_a_webhook()
    {
        var appId = await NewAppAsync();
        var channel = fixture.Client.GetGrain<IChannelGrain>($"{appId}/presence-chat");
        var observer = new Feed();
        var feed = fixture.Client.CreateObjectReference<IChannelFeedObserver>(observer);
        await channel.Subscribe(feed, new ChannelSubscription("3.1", new ChannelMember("sender", null)));
        await channel.Publish(new ChannelPublish("client-hi", """{"a":1}""", DataIsJson: true, ExcludedSocketId: "3.1", UserId: null, FromClient: true));
        await Wait.UntilAsync(async () => observer.Events.Any(e => e.Name == "client-hi"), "the client event");
        var e = observer.Events.Single(e => e.Name == "client-hi");
        Assert.Equal("sender", e.UserId);
        Assert.Equal("3.1", e.ExcludedSocketId);
        Assert.Contains(RecordedWebhooks.Instance.Events, w => w.AppId == appId && w.Event is { Name: "client_event", Event: "client-hi", UserId: "sender", SocketId: "3.1" });
    }
}
