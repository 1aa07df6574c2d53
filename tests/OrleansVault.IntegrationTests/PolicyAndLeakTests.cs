using System.Net;
using System.Net.WebSockets;
using Microsoft.Extensions.DependencyInjection;
using OrleansVault.Gateway.WebSockets;

namespace OrleansVault.IntegrationTests;

public sealed class ClassPolicyTests
{
    [Fact]
    public async Task A_declared_class_sets_its_default_ttl_and_value_limit()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:Classes:ephemeral:DefaultTtlMs"] = "400",
            ["Vault:Bootstrap:Classes:ephemeral:MaxValueBytes"] = "16",
        });
        try
        {
            using var client = factory.Client(factory.BasicHeader);
            var root = $"/project/{GatewayFactory.ProjectId}/cache";
            var set = await HttpApiTests.PostAsync(client, $"{root}/ephemeral/o/k", "{\"value\":\"short\"}");
            using (var item = await HttpApiTests.JsonAsync(set))
            {
                var e = item.RootElement;
                Assert.Equal(400, e.GetProperty("expiresAt").GetInt64() - e.GetProperty("updatedAt").GetInt64());
            }

            var big = await HttpApiTests.PostAsync(client, $"{root}/ephemeral/o/big", "{\"value\":\"more than sixteen bytes\"}");
            Assert.Equal(HttpStatusCode.RequestEntityTooLarge, big.StatusCode);

            // Undeclared classes keep the defaults.
            using var other = await HttpApiTests.JsonAsync(await HttpApiTests.PostAsync(client, $"{root}/other/o/big", "{\"value\":\"more than sixteen bytes\"}"));
            Assert.Equal(3_600_000, other.RootElement.GetProperty("expiresAt").GetInt64() - other.RootElement.GetProperty("updatedAt").GetInt64());

            await Wait.UntilAsync(async () => (await client.GetAsync($"{root}/ephemeral/o/k")).StatusCode == HttpStatusCode.NotFound, "class default ttl");
        }
        finally
        {
            factory.DeleteData();
        }
    }
}

[Collection(GatewayCollection.Name)]
public sealed class SocketLeakTests(SharedGateway gateway)
{
    [Fact]
    public async Task Sockets_that_die_in_any_way_leave_no_feed_connection_or_presence_behind()
    {
        var factory = gateway.Factory;
        var id = "leak-" + Guid.NewGuid().ToString("N");
        var endpoint = factory.Services.GetRequiredService<VaultriceSocketEndpoint>();
        var feeds = factory.Services.GetRequiredService<ObjectFeeds>();
        var baseline = endpoint.Count;

        for (var round = 0; round < 5; round++)
        {
            var sockets = new List<WebSocket>();
            for (var i = 0; i < 6; i++)
            {
                var socket = await factory.ConnectAsync("c", id, factory.BasicHeader);
                var frames = new FrameReader(socket);
                await frames.NextAsync();
                await frames.SendAsync(new { @event = "presence:join", payload = new { i } });
                await frames.NextEventAsync("presence:join");
                sockets.Add(socket);
            }

            for (var i = 0; i < sockets.Count; i++)
            {
                switch (i % 3)
                {
                    case 0:
                        sockets[i].Abort();
                        break;
                    case 1:
                        await sockets[i].CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
                        break;
                    default:
                        await sockets[i].CloseOutputAsync(WebSocketCloseStatus.NormalClosure, "half", CancellationToken.None);
                        break;
                }

                sockets[i].Dispose();
            }
        }

        using var client = factory.Client(factory.BasicHeader);
        await Wait.UntilAsync(
            async () => endpoint.Count == baseline
                && await client.GetStringAsync($"/project/{GatewayFactory.ProjectId}/presence-list/c/{id}") == "[]",
            "sockets, presence and feeds to be released");
        await Wait.UntilAsync(() => Task.FromResult(!feeds.HasFeed($"{GatewayFactory.ProjectId}/c/{id}")), "the object's feed to close");
    }
}
