using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using OrleansVault.Gateway.WebSockets;

namespace OrleansVault.IntegrationTests;

public sealed class FeedTests
{
    [Fact]
    public async Task A_socket_keeps_receiving_after_its_object_reactivates_without_knowing_the_gateway_feed()
    {
        // Renewals only when the test says so, so the write below is certain to miss the feed.
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:WebSockets:FeedRenewInterval"] = "01:00:00" });
        try
        {
            var id = "feed-" + Guid.NewGuid().ToString("N");
            using var socket = await factory.ConnectAsync("c", id, factory.BasicHeader);
            var frames = new FrameReader(socket);
            await frames.NextAsync();
            await frames.SendAsync(new { @event = "presence:join", payload = new { me = 1 } });
            await frames.NextEventAsync("presence:join");

            // Deactivate the object (it seals its history); the next call reactivates it with no presence and no feeds.
            var management = factory.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0);
            using var client = factory.Client(factory.BasicHeader);
            await Wait.UntilAsync(
                async () =>
                {
                    await management.ForceActivationCollection(TimeSpan.FromMilliseconds(1));
                    return await client.GetStringAsync($"/project/{GatewayFactory.ProjectId}/presence-list/c/{id}") == "[]";
                },
                "the object to reactivate");

            // Pushed to nobody: the reactivated object has not heard of this gateway's feed.
            await HttpApiTests.PostAsync(client, $"/project/{GatewayFactory.ProjectId}/cache/c/{id}/k", "{\"value\":42}");

            // The renewal finds the object did not know the feed and relays what it missed from history.
            await factory.Services.GetRequiredService<ObjectFeeds>().RenewAllAsync(CancellationToken.None);
            var set = await frames.NextEventAsync("setItem");
            Assert.Equal("k", set.GetProperty("payload").GetProperty("prop").GetString());
            Assert.Equal(42, set.GetProperty("payload").GetProperty("value").GetInt32());
            Assert.Contains(factory.Logs.Lines, line => line.Contains("saw a sequence gap", StringComparison.Ordinal));
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
