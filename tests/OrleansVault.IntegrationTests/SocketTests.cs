using System.Net;
using System.Net.WebSockets;
using System.Text.Json;

namespace OrleansVault.IntegrationTests;

[Collection(GatewayCollection.Name)]
public sealed class SocketTests(SharedGateway gateway)
{
    private readonly GatewayFactory _factory = gateway.Factory;
    private readonly string _id = "sock-" + Guid.NewGuid().ToString("N");

    private async Task<(WebSocket Socket, FrameReader Frames, string ConnectionId)> OpenAsync(string? id = null)
    {
        var socket = await _factory.ConnectAsync("c", id ?? _id, _factory.BasicHeader);
        var frames = new FrameReader(socket);
        var connected = await frames.NextAsync();
        Assert.Equal("connected", connected.GetProperty("event").GetString());
        return (socket, frames, connected.GetProperty("connectionId").GetString()!);
    }

    private Task<HttpResponseMessage> PostAsync(string rest, string body)
    {
        var client = _factory.Client(_factory.BasicHeader);
        return HttpApiTests.PostAsync(client, $"/project/{GatewayFactory.ProjectId}/{rest}", body);
    }

    [Fact]
    public async Task Handshakes_with_bad_credentials_are_refused_before_the_upgrade()
    {
        var error = await Assert.ThrowsAnyAsync<Exception>(() => _factory.ConnectAsync("c", _id, "Bearer garbage"));
        Assert.Contains("401", error.Message, StringComparison.Ordinal);

        using var client = _factory.Client();
        var response = await client.GetAsync($"/project/{GatewayFactory.ProjectId}/ws/c/{_id}?auth={Uri.EscapeDataString(_factory.BasicHeader)}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);

        var badId = await Assert.ThrowsAnyAsync<Exception>(() => _factory.ConnectAsync("c", "bad id!", _factory.BasicHeader));
        Assert.Contains("400", badId.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Item_events_reach_every_socket_including_the_writers()
    {
        var (a, aFrames, _) = await OpenAsync();
        var (b, bFrames, _) = await OpenAsync();
        using (a)
        using (b)
        {
            await PostAsync($"cache/c/{_id}/k", "{\"value\":false}");
            foreach (var frames in new[] { aFrames, bFrames })
            {
                var set = await frames.NextEventAsync("setItem");
                Assert.Equal("k", set.GetProperty("payload").GetProperty("prop").GetString());
                Assert.Equal(JsonValueKind.False, set.GetProperty("payload").GetProperty("value").ValueKind);
                Assert.False(set.GetProperty("payload").TryGetProperty("keyVersion", out _));
            }

            await PostAsync($"cache/c/{_id}/k/increment", "{\"value\":1}");
            var client = _factory.Client(_factory.BasicHeader);
            await client.DeleteAsync($"/project/{GatewayFactory.ProjectId}/cache/c/{_id}/k");
            Assert.Equal("k", (await aFrames.NextEventAsync("removeItem")).GetProperty("payload").GetProperty("prop").GetString());
            Assert.Equal("k", (await bFrames.NextEventAsync("removeItem")).GetProperty("payload").GetProperty("prop").GetString());
        }
    }

    [Fact]
    public async Task Socket_messages_skip_their_sender_and_http_messages_reach_everyone()
    {
        var (a, aFrames, _) = await OpenAsync();
        var (b, bFrames, _) = await OpenAsync();
        using (a)
        using (b)
        {
            await aFrames.SendAsync(new { @event = "message", payload = new { from = "a" } });
            var atB = await bFrames.NextEventAsync("message");
            Assert.Equal("a", atB.GetProperty("payload").GetProperty("from").GetString());

            await PostAsync($"message/c/{_id}", "{\"from\":\"http\"}");
            Assert.Equal("http", (await bFrames.NextEventAsync("message")).GetProperty("payload").GetProperty("from").GetString());

            // A's next message is the HTTP one: its own socket message never came back.
            var atA = await aFrames.NextEventAsync("message");
            Assert.Equal("http", atA.GetProperty("payload").GetProperty("from").GetString());
        }
    }

    [Fact]
    public async Task Presence_echoes_joins_lists_joined_connections_and_leaves_once_on_close()
    {
        var (a, aFrames, aId) = await OpenAsync();
        var (b, bFrames, bId) = await OpenAsync();
        using (b)
        {
            await aFrames.SendAsync(new { @event = "presence:join", payload = new { name = "alice" } });
            var ownJoin = await aFrames.NextEventAsync("presence:join");
            Assert.Equal(aId, ownJoin.GetProperty("connectionId").GetString());
            var seen = await bFrames.NextEventAsync("presence:join");
            Assert.Equal(aId, seen.GetProperty("connectionId").GetString());
            Assert.Equal("alice", seen.GetProperty("payload").GetProperty("name").GetString());
            Assert.True(seen.GetProperty("joinedAt").GetInt64() > 0);

            using var client = _factory.Client(_factory.BasicHeader);
            var list = JsonDocument.Parse(await client.GetStringAsync($"/project/{GatewayFactory.ProjectId}/presence-list/c/{_id}")).RootElement;
            Assert.Equal(1, list.GetArrayLength());
            Assert.Equal(aId, list[0].GetProperty("connectionId").GetString());
            Assert.Equal("alice", list[0].GetProperty("data").GetProperty("name").GetString());

            await aFrames.SendAsync(new { @event = "presence:leave" });
            var left = await bFrames.NextEventAsync("presence:leave");
            Assert.Equal(aId, left.GetProperty("connectionId").GetString());
            Assert.Equal("alice", left.GetProperty("payload").GetProperty("name").GetString());

            await aFrames.SendAsync(new { @event = "presence:join", payload = new { name = "again" } });
            await bFrames.NextEventAsync("presence:join");
            a.Abort();
            a.Dispose();
            var dropped = await bFrames.NextEventAsync("presence:leave");
            Assert.Equal("again", dropped.GetProperty("payload").GetProperty("name").GetString());

            // Exactly one leave per join: the next frame B sees is the item event below, not a second leave.
            await PostAsync($"cache/c/{_id}/marker", "{\"value\":1}");
            Assert.Equal("setItem", (await bFrames.NextAsync()).GetProperty("event").GetString());
            Assert.Equal("[]", await client.GetStringAsync($"/project/{GatewayFactory.ProjectId}/presence-list/c/{_id}"));
            Assert.NotEqual(aId, bId);
        }
    }

    [Fact]
    public async Task A_resumed_connection_gets_exactly_what_it_missed_in_order()
    {
        var (a, aFrames, aId) = await OpenAsync();
        await PostAsync($"cache/c/{_id}/before", "{\"value\":0}");
        await aFrames.NextEventAsync("setItem");
        await a.CloseAsync(WebSocketCloseStatus.NormalClosure, "going", CancellationToken.None);
        a.Dispose();

        await PostAsync($"cache/c/{_id}/k1", "{\"value\":1}");
        await PostAsync($"cache/c/{_id}/k2", "{\"value\":2}");
        await PostAsync($"message/c/{_id}", "\"while away\"");

        var (b, bFrames, bId) = await OpenAsync();
        using (b)
        {
            Assert.NotEqual(aId, bId);
            await bFrames.SendAsync(new { @event = "resume", connectionId = aId });
            var ack = await bFrames.NextAsync();
            Assert.Equal("resume:ack", ack.GetProperty("event").GetString());
            Assert.Equal(aId, ack.GetProperty("connectionId").GetString());
            Assert.Equal("k1", (await bFrames.NextAsync()).GetProperty("payload").GetProperty("prop").GetString());
            Assert.Equal("k2", (await bFrames.NextAsync()).GetProperty("payload").GetProperty("prop").GetString());
            Assert.Equal("while away", (await bFrames.NextAsync()).GetProperty("payload").GetString());

            // Live events continue after the replay, and the socket now speaks as the resumed connection.
            await PostAsync($"cache/c/{_id}/k3", "{\"value\":3}");
            Assert.Equal("k3", (await bFrames.NextAsync()).GetProperty("payload").GetProperty("prop").GetString());
        }
    }

    [Fact]
    public async Task Resuming_a_connection_whose_old_socket_still_looks_open_replaces_that_socket()
    {
        var (stale, staleFrames, token) = await OpenAsync();
        var (fresh, freshFrames, _) = await OpenAsync();
        using (stale)
        using (fresh)
        {
            await freshFrames.SendAsync(new { @event = "resume", connectionId = token });
            var ack = await freshFrames.NextEventAsync("resume:ack");
            Assert.Equal(token, ack.GetProperty("connectionId").GetString());
            await Assert.ThrowsAnyAsync<Exception>(() => staleFrames.NextAsync());

            await PostAsync($"cache/c/{_id}/after", "{\"value\":1}");
            Assert.Equal("after", (await freshFrames.NextEventAsync("setItem")).GetProperty("payload").GetProperty("prop").GetString());
        }
    }

    [Fact]
    public async Task Unknown_resume_tokens_get_the_error_the_sdk_recognises()
    {
        var (a, frames, _) = await OpenAsync();
        using (a)
        {
            await frames.SendAsync(new { @event = "resume", connectionId = "never-seen" });
            var error = await frames.NextAsync();
            Assert.Equal("error", error.GetProperty("event").GetString());
            Assert.Equal("Invalid resume token", error.GetProperty("payload").GetString());
            await frames.SendAsync(new { @event = "ping" });
            Assert.Equal("pong", (await frames.NextAsync()).GetProperty("event").GetString());
        }
    }

    [Fact]
    public async Task Malformed_frames_get_error_events_and_the_socket_stays_usable()
    {
        var (a, frames, _) = await OpenAsync();
        using (a)
        {
            await a.SendAsync("{not json"u8.ToArray(), WebSocketMessageType.Text, true, CancellationToken.None);
            Assert.Equal("error", (await frames.NextAsync()).GetProperty("event").GetString());
            await frames.SendAsync(new { @event = "no-such-event" });
            Assert.Equal("error", (await frames.NextAsync()).GetProperty("event").GetString());
            await frames.SendAsync(new { @event = "presence:join", payload = new { }, keyVersion = "x" });
            Assert.Equal("error", (await frames.NextAsync()).GetProperty("event").GetString());
            await frames.SendAsync(new { @event = "ping" });
            Assert.Equal("pong", (await frames.NextAsync()).GetProperty("event").GetString());
        }
    }

    [Fact]
    public async Task Oversized_frames_are_dropped_with_an_error_event_and_the_socket_carries_on()
    {
        var (a, frames, _) = await OpenAsync();
        var (b, bFrames, _) = await OpenAsync();
        using (a)
        using (b)
        {
            var payload = new string('x', 300 * 1024);
            await frames.SendAsync(new { @event = "message", payload });
            var error = await frames.NextEventAsync("error");
            Assert.Contains("too large", error.GetProperty("payload").GetString(), StringComparison.Ordinal);

            await frames.SendAsync(new { @event = "message", payload = "small" });
            Assert.Equal("small", (await bFrames.NextEventAsync("message")).GetProperty("payload").GetString());
            await frames.SendAsync(new { @event = "ping" });
            Assert.Equal("pong", (await frames.NextAsync()).GetProperty("event").GetString());
        }
    }
}
