using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace OrleansVault.IntegrationTests;

/// <summary>Polling with deadlines instead of sleeps.</summary>
public static class Wait
{
    public static readonly TimeSpan Deadline = TimeSpan.FromSeconds(15);

    public static async Task UntilAsync(Func<Task<bool>> condition, string what, TimeSpan? timeout = null)
    {
        var until = DateTime.UtcNow + (timeout ?? Deadline);
        while (!await condition())
        {
            if (DateTime.UtcNow > until)
            {
                throw new TimeoutException($"Timed out waiting for {what}.");
            }

            await Task.Delay(25);
        }
    }
}

/// <summary>Reads JSON frames from a test socket with a deadline.</summary>
public sealed class FrameReader(WebSocket socket)
{
    public WebSocketCloseStatus? CloseStatus { get; private set; }

    public string? CloseReason { get; private set; }

    public async Task<JsonElement> NextAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? Wait.Deadline);
        var buffer = new byte[64 * 1024];
        using var message = new MemoryStream();
        while (true)
        {
            var result = await socket.ReceiveAsync(buffer, cts.Token);
            if (result.MessageType == WebSocketMessageType.Close)
            {
                CloseStatus = result.CloseStatus;
                CloseReason = result.CloseStatusDescription;
                throw new WebSocketClosedException(result.CloseStatus, result.CloseStatusDescription);
            }

            message.Write(buffer, 0, result.Count);
            if (result.EndOfMessage)
            {
                return JsonDocument.Parse(message.ToArray()).RootElement.Clone();
            }
        }
    }

    /// <summary>Skips frames until one with the given event name arrives.</summary>
    public async Task<JsonElement> NextEventAsync(string eventName, TimeSpan? timeout = null)
    {
        while (true)
        {
            var frame = await NextAsync(timeout);
            if (frame.GetProperty("event").GetString() == eventName)
            {
                return frame;
            }
        }
    }

    /// <summary>Waits for the server to close the socket and returns the close status.</summary>
    public async Task<WebSocketCloseStatus?> ClosedAsync(TimeSpan? timeout = null)
    {
        try
        {
            while (true)
            {
                await NextAsync(timeout);
            }
        }
        catch (WebSocketClosedException closed)
        {
            return closed.Status;
        }
    }

    public Task SendAsync(object frame) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(JsonSerializer.Serialize(frame)), WebSocketMessageType.Text, true, CancellationToken.None);
}

public sealed class WebSocketClosedException(WebSocketCloseStatus? status, string? reason)
    : Exception($"Socket closed: {status} {reason}")
{
    public WebSocketCloseStatus? Status { get; } = status;
}
