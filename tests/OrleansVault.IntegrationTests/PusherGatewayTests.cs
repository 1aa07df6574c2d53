using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using OrleansVault.Gateway.Pusher.Protocol;

namespace OrleansVault.IntegrationTests;

/// <summary>The Pusher door through the real gateway: connection quotas with authorized connections, the app secret kept out of logs.</summary>
public sealed class PusherGatewayTests
{
    private const string AppKey = "itest-pusher-key";
    private static readonly string AppSecret = "pusher-secret-" + Guid.NewGuid().ToString("N");

    private static GatewayFactory Gateway(int maxConnections) => new(settings: new Dictionary<string, string?>
    {
        ["Vault:Bootstrap:Pusher:AppId"] = "itest-app",
        ["Vault:Bootstrap:Pusher:Key"] = AppKey,
        ["Vault:Bootstrap:Pusher:Secret"] = AppSecret,
        ["Vault:Bootstrap:Pusher:AuthorizedConnections"] = "true",
        ["Vault:Bootstrap:Pusher:MaxConnections"] = maxConnections.ToString(System.Globalization.CultureInfo.InvariantCulture),

        // The test keeps an unauthorized connection open to the end: its run time on a loaded machine must never reach
        // the authorization timeout (30 s by default).
        ["Vault:Pusher:AuthorizationTimeout"] = "00:05:00",
    })
    {
        ForbiddenInLogs = { AppSecret },
    };

    private static async Task<(FrameReader Reader, WebSocket Socket, string SocketId)> ConnectAsync(GatewayFactory gateway)
    {
        var client = gateway.Server.CreateWebSocketClient();
        var uri = new UriBuilder(new Uri(gateway.Server.BaseAddress, $"/app/{AppKey}?protocol=7&client=itest&version=1")) { Scheme = "ws" }.Uri;
        var socket = await client.ConnectAsync(uri, CancellationToken.None);
        var reader = new FrameReader(socket);
        var established = await reader.NextEventAsync("pusher:connection_established");
        using var data = JsonDocument.Parse(established.GetProperty("data").GetString()!);
        return (reader, socket, data.RootElement.GetProperty("socket_id").GetString()!);
    }

    private static Task SignInAsync(FrameReader reader, string socketId, string userId)
    {
        var userData = $$"""{"id":"{{userId}}"}""";
        var auth = $"{AppKey}:{PusherSignatures.Sign(Encoding.UTF8.GetBytes(AppSecret), PusherSignatures.SignInString(socketId, userData))}";
        return reader.SendAsync(new { @event = "pusher:signin", data = new { auth, user_data = userData } });
    }

    [Fact]
    public async Task Unauthorized_connections_do_not_count_towards_the_quota_but_authorized_ones_do()
    {
        await using var gateway = Gateway(maxConnections: 1);
        var (firstReader, _, firstId) = await ConnectAsync(gateway);
        var (secondReader, _, secondId) = await ConnectAsync(gateway);
        var (thirdReader, _, _) = await ConnectAsync(gateway);

        // Three connections are open while unauthorized; the first to sign in takes the one slot.
        await SignInAsync(firstReader, firstId, "first");
        await firstReader.NextEventAsync("pusher:signin_success");
        await SignInAsync(secondReader, secondId, "second");
        var error = await secondReader.NextEventAsync("pusher:error");
        Assert.Equal(4004, error.GetProperty("data").GetProperty("code").GetInt32());
        Assert.Equal((WebSocketCloseStatus)4004, await secondReader.ClosedAsync());

        // The unauthorized third one is still open (answering pings) until the authorization timeout.
        await thirdReader.SendAsync(new { @event = "pusher:ping", data = new { } });
        await thirdReader.NextEventAsync("pusher:pong");
        await firstReader.SendAsync(new { @event = "pusher:ping", data = new { } });
        await firstReader.NextEventAsync("pusher:pong");
    }
}
