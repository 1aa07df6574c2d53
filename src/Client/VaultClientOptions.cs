using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace OrleansVault.Client;

/// <summary>The wire protocol a <see cref="VaultClient"/> speaks on the hub.</summary>
public enum VaultProtocol
{
    /// <summary>SignalR's JSON protocol.</summary>
    Json = 0,

    /// <summary>SignalR's MessagePack protocol (smaller frames, less CPU).</summary>
    MessagePack = 1,
}

/// <summary>How a <see cref="VaultClient"/> reaches and authenticates to a gateway.</summary>
public sealed class VaultClientOptions
{
    /// <summary>The gateway's (or the cluster proxy's) base URL, e.g. <c>http://127.0.0.1:5080</c>.</summary>
    public required Uri BaseUrl { get; init; }

    /// <summary>The project the connection belongs to.</summary>
    public required string ProjectId { get; init; }

    /// <summary>
    /// Returns a fresh access token (minted by your backend); called on connect and on every reconnect. Either this or
    /// <see cref="ApiKey"/> + <see cref="ApiSecret"/> is required.
    /// </summary>
    public Func<CancellationToken, Task<string>>? AccessTokenProvider { get; init; }

    /// <summary>For trusted backends only: an API key whose secret the client uses to mint its own access tokens.</summary>
    public string? ApiKey { get; init; }

    /// <summary>The secret of <see cref="ApiKey"/>; it only ever goes to the gateway's token endpoint.</summary>
    public string? ApiSecret { get; init; }

    /// <summary>JSON (default) or MessagePack.</summary>
    public VaultProtocol Protocol { get; init; } = VaultProtocol.Json;

    /// <summary>Where the client logs connection changes; nothing is logged without it.</summary>
    public ILoggerFactory? LoggerFactory { get; init; }

    /// <summary>Waits between reconnect attempts; the last repeats forever. Default 0, 0.5, 1, 2, 5, 10 s.</summary>
    public IReadOnlyList<TimeSpan>? ReconnectDelays { get; init; }

    /// <summary>How the client serializes your values (default: <see cref="JsonSerializerDefaults.Web"/>).</summary>
    public JsonSerializerOptions? JsonOptions { get; init; }

    /// <summary>Connects straight over WebSockets without the negotiate request (one socket per client instead of two).</summary>
    public bool SkipNegotiation { get; init; } = true;

    /// <summary>
    /// Opens the WebSocket for a URL (which already carries the access token) instead of the default client: for load
    /// tools spreading connections over source addresses, or custom TLS. Null uses <see cref="System.Net.WebSockets.ClientWebSocket"/>.
    /// </summary>
    public Func<Uri, CancellationToken, ValueTask<System.Net.WebSockets.WebSocket>>? WebSocketFactory { get; init; }

    /// <summary>
    /// Events an enumeration of <see cref="SharedObject.Events"/> may have waiting; one more ends that enumeration with
    /// <see cref="ClientErrorCodes.EventsOverflow"/> (no event is ever skipped silently).
    /// </summary>
    public int EventBufferSize { get; init; } = 10_000;

    /// <summary>
    /// How long disposing waits for the gateway to confirm each object's close (default 5 s). A gateway that is slow to
    /// answer (an object call in flight, a stalled server) cannot hold a dispose longer: the connection closes anyway,
    /// and the gateway closes the connection's objects with it.
    /// </summary>
    public TimeSpan CloseTimeout { get; init; } = TimeSpan.FromSeconds(5);
}
