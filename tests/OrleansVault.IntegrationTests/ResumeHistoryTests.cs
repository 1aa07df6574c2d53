using System.Net.WebSockets;

namespace OrleansVault.IntegrationTests;

public sealed class ResumeHistoryTests
{
    [Fact]
    public async Task A_gap_older_than_the_history_is_an_invalid_resume_and_the_socket_carries_on()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Objects:HistoryLength"] = "3" });
        try
        {
            var id = "short-history";
            var path = $"/project/{GatewayFactory.ProjectId}/cache/c/{id}";
            using var client = factory.Client(factory.BasicHeader);

            var first = await factory.ConnectAsync("c", id, factory.BasicHeader);
            var firstFrames = new FrameReader(first);
            var oldId = (await firstFrames.NextAsync()).GetProperty("connectionId").GetString()!;
            await first.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", CancellationToken.None);
            first.Dispose();

            for (var i = 0; i < 5; i++)
            {
                await HttpApiTests.PostAsync(client, $"{path}/k{i}", $"{{\"value\":{i}}}");
            }

            using var second = await factory.ConnectAsync("c", id, factory.BasicHeader);
            var frames = new FrameReader(second);
            var newId = (await frames.NextAsync()).GetProperty("connectionId").GetString()!;
            await frames.SendAsync(new { @event = "resume", connectionId = oldId });
            var error = await frames.NextAsync();
            Assert.Equal("error", error.GetProperty("event").GetString());
            Assert.Equal("Invalid resume token", error.GetProperty("payload").GetString());

            await HttpApiTests.PostAsync(client, $"{path}/live", "{\"value\":true}");
            var live = await frames.NextEventAsync("setItem");
            Assert.Equal("live", live.GetProperty("payload").GetProperty("prop").GetString());
            Assert.NotEqual(oldId, newId);
        }
        finally
        {
            factory.DeleteData();
        }
    }
}

public sealed class ShutdownTests
{
    [Fact]
    public async Task A_stopping_gateway_closes_its_sockets_with_1001()
    {
        var factory = new GatewayFactory();
        try
        {
            using var socket = await factory.ConnectAsync("c", "shutdown", factory.BasicHeader);
            var frames = new FrameReader(socket);
            await frames.NextAsync();
            var closed = frames.ClosedAsync();
            var stop = factory.DisposeAsync().AsTask();
            Assert.Equal(WebSocketCloseStatus.EndpointUnavailable, await closed);
            Assert.Equal("server shutting down", frames.CloseReason);
            await stop;
        }
        finally
        {
            await factory.DisposeAsync();
            factory.DeleteData();
        }
    }
}
