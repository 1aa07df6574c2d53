using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OrleansVault.Client;
using OrleansVault.Protocol;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>A subscriber that stops reading is disconnected with a reason, and nobody else waits for it.</summary>
public sealed class NativeSlowSubscriberTests
{
    private const char RecordSeparator = '\u001e';

    [Fact]
    public async Task A_stalled_subscriber_is_dropped_with_a_reason_while_writes_and_other_subscribers_go_on()
    {
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Hub:MaxQueuedEvents"] = "32",

            // Long enough for this test to come back and read its backlog, then the reason.
            ["Vault:Hub:CloseTimeout"] = "00:01:00",
        });
        var id = "slow" + Guid.NewGuid().ToString("N");
        var token = await gateway.TokenAsync();

        // A raw SignalR JSON client that subscribes and then never reads again.
        using var stalled = new ClientWebSocket();
        var hub = new UriBuilder(new Uri(gateway.BaseUrl, $"{NativeProtocol.HubPath}?project={GatewayFactory.ProjectId}&access_token={Uri.EscapeDataString(token)}")) { Scheme = "ws" }.Uri;
        await stalled.ConnectAsync(hub, CancellationToken.None);
        await SendAsync(stalled, """{"protocol":"json","version":1}""");
        Assert.Equal("{}", await ReceiveRecordAsync(stalled));
        await SendAsync(stalled, $$"""{"type":1,"invocationId":"1","target":"Open","arguments":[{"class":"slow","id":"{{id}}"}]}""");
        using (var opened = JsonDocument.Parse(await ReceiveRecordAsync(stalled)))
        {
            Assert.Equal(3, opened.RootElement.GetProperty("type").GetInt32());
        }

        await SendAsync(stalled, $$"""{"type":4,"invocationId":"2","target":"Subscribe","arguments":["slow/{{id}}",null,null]}""");

        // A healthy subscriber on the same object.
        await using var vault = await gateway.ConnectAsync();
        var healthy = await vault.OpenAsync("slow", id);
        var log = new EventLog(healthy);

        // Large values (overwriting a few keys, within the object's size limit) fill the stalled client's socket buffers quickly; every write still completes.
        var value = new string('x', 200 * 1024);
        using var http = gateway.Http();
        const int writes = 150;
        for (var i = 0; i < writes; i++)
        {
            using var response = await http.PostAsJsonAsync($"/project/{GatewayFactory.ProjectId}/cache/slow/{id}/k{i % 3}", new { value });
            response.EnsureSuccessStatusCode();
        }

        await Wait.UntilAsync(() => Task.FromResult(log.Snapshot().Count(e => e.Kind == EventKind.SetItem) == writes), "every event at the healthy subscriber");
        await Wait.UntilAsync(
            () => Task.FromResult(gateway.Factory.Logs.Lines.Any(l => l.Contains("dropped: limitError.subscriber.tooSlow", StringComparison.Ordinal))),
            "the stalled subscriber being dropped");

        // Reading again, the stalled client drains its backlog, then finds the connection closed, with the reason.
        string? closeError = null;
        await Wait.UntilAsync(async () =>
        {
            try
            {
                var record = await ReceiveRecordAsync(stalled);
                if (record.Contains("\"type\":7", StringComparison.Ordinal))
                {
                    // SignalR ends every connection with a bare close of its own; the reason is in the first.
                    closeError ??= record;
                }

                return stalled.State != WebSocketState.Open;
            }
            catch (Exception error) when (error is WebSocketException or InvalidOperationException or OperationCanceledException)
            {
                return true;
            }
        }, "the stalled socket to end");
        Assert.Contains("limitError.subscriber.tooSlow", closeError, StringComparison.Ordinal);
    }

    private static Task SendAsync(WebSocket socket, string json) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(json + RecordSeparator), WebSocketMessageType.Text, true, CancellationToken.None);

    private static readonly Dictionary<WebSocket, StringBuilder> Pending = [];

    /// <summary>Reads the next record (records end with 0x1E; one frame may hold several).</summary>
    private static async Task<string> ReceiveRecordAsync(WebSocket socket)
    {
        if (!Pending.TryGetValue(socket, out var pending))
        {
            Pending[socket] = pending = new StringBuilder();
        }

        using var timeout = new CancellationTokenSource(Wait.Deadline);
        var buffer = new byte[256 * 1024];
        while (true)
        {
            var text = pending.ToString();
            var end = text.IndexOf(RecordSeparator, StringComparison.Ordinal);
            if (end >= 0)
            {
                pending.Remove(0, end + 1);
                return text[..end];
            }

            var result = await socket.ReceiveAsync(buffer, timeout.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                return "{\"closed\":true}";
            }

            pending.Append(Encoding.UTF8.GetString(buffer, 0, result.Count));
        }
    }
}
