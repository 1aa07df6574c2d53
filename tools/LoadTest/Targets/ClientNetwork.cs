using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using OrleansVault.LoadTest.Options;

namespace OrleansVault.LoadTest.Targets;

/// <summary>
/// HTTP and WebSocket clients for the load: sockets are spread over the given loopback source addresses
/// (one address pair has ~28k ephemeral ports), and the target URL is chosen round-robin for a cluster.
/// </summary>
public sealed class ClientNetwork : IDisposable
{
    private readonly IReadOnlyList<Uri> _urls;
    private readonly IReadOnlyList<IPAddress> _sources;
    private readonly SocketsHttpHandler _upgradeHandler;
    private readonly HttpMessageInvoker _upgrades;
    private int _nextSource;
    private int _nextRequest = -1;

    public ClientNetwork(LoadOptions options)
    {
        _urls = options.Urls;
        _sources = options.SourcesForThisProcess();
        _upgradeHandler = NewHandler(int.MaxValue);
        _upgrades = new HttpMessageInvoker(_upgradeHandler);
        Http = new HttpClient(NewHandler(Math.Max(64, options.InFlight * 2))) { Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>For requests (writes, reads, token minting); pooled.</summary>
    public HttpClient Http { get; }

    public Uri BaseFor(int index) => _urls[(int)((uint)index % (uint)_urls.Count)];

    /// <summary>The gateway for the next request: round-robin over the targets, so a cluster's gateways share the requests evenly.</summary>
    public Uri NextBase() => BaseFor(Interlocked.Increment(ref _nextRequest));

    public Uri WebSocketUri(int index, string pathAndQuery)
    {
        var builder = new UriBuilder(new Uri(BaseFor(index), pathAndQuery));
        builder.Scheme = builder.Scheme == "https" ? "wss" : "ws";
        return builder.Uri;
    }

    /// <summary>Mints an access token from key + secret at <paramref name="baseUrl"/> (the Vaultrice token endpoint, WIRE.md 1.4).</summary>
    public static async Task<string> MintTokenAsync(HttpClient http, Uri baseUrl, string projectId, string apiKey, string apiSecret, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(baseUrl, $"/project/{projectId}/auth/token"));
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes($"{apiKey}:{apiSecret}")));
        using var response = await http.SendAsync(request, cancellationToken);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync(cancellationToken);
    }

    public async Task<ClientWebSocket> ConnectWebSocketAsync(Uri uri, CancellationToken cancellationToken)
    {
        var socket = new ClientWebSocket();
        socket.Options.KeepAliveInterval = TimeSpan.Zero;
        try
        {
            await socket.ConnectAsync(uri, _upgrades, cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        Http.Dispose();
        _upgrades.Dispose();
        _upgradeHandler.Dispose();
    }

    private SocketsHttpHandler NewHandler(int connectionsPerServer) => new()
    {
        MaxConnectionsPerServer = connectionsPerServer,
        PooledConnectionLifetime = Timeout.InfiniteTimeSpan,
        UseCookies = false,
        ConnectCallback = ConnectAsync,
    };

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (_sources.Count > 0)
            {
                var source = _sources[(int)((uint)Interlocked.Increment(ref _nextSource) % (uint)_sources.Count)];
                socket.Bind(new IPEndPoint(source, 0));
            }

            await socket.ConnectAsync(context.DnsEndPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
