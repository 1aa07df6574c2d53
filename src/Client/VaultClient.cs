using System.Collections.Concurrent;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OrleansVault.Protocol;

namespace OrleansVault.Client;

/// <summary>
/// A connection to OrleansVault's native door. It reconnects by itself (with a fresh access token) and then reopens
/// every <see cref="SharedObject"/>: each resubscribes from the last event it saw and receives exactly what it missed.
/// </summary>
/// <example>
/// <code>
/// await using var vault = await VaultClient.ConnectAsync(new VaultClientOptions
/// {
///     BaseUrl = new Uri("http://127.0.0.1:5080"),
///     ProjectId = "demo",
///     AccessTokenProvider = _ => myBackend.GetVaultTokenAsync(),
/// });
/// var board = await vault.OpenAsync("boards", "team-1");
/// board.ItemChanged += (_, e) => Console.WriteLine($"{e.Key} = {e.Value}");
/// await board.SetAsync("title", "Sprint 12");
/// </code>
/// </example>
public sealed class VaultClient : IAsyncDisposable
{
    private static readonly TimeSpan[] DefaultDelays = [TimeSpan.Zero, TimeSpan.FromMilliseconds(500), TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(10)];
    private readonly ConcurrentDictionary<string, SharedObject> _objects = new(StringComparer.Ordinal);
    private readonly AccessTokenSource _tokens;
    private readonly CancellationTokenSource _disposed = new();
    private readonly ILogger _logger;
    private long _connectionNumber;

    private VaultClient(VaultClientOptions options)
    {
        Options = options;
        _tokens = new AccessTokenSource(options);
        _logger = options.LoggerFactory?.CreateLogger<VaultClient>() ?? NullLogger<VaultClient>.Instance;
        var url = new Uri(options.BaseUrl, NativeProtocol.HubPath.TrimStart('/') + "?" + NativeProtocol.ProjectParameter + "=" + Uri.EscapeDataString(options.ProjectId));
        var builder = new HubConnectionBuilder()
            .WithUrl(url, http =>
            {
                http.AccessTokenProvider = () => _tokens.GetAsync(_disposed.Token)!;
                if (options.SkipNegotiation)
                {
                    http.SkipNegotiation = true;
                    http.Transports = HttpTransportType.WebSockets;
                }

                if (options.WebSocketFactory is { } factory)
                {
                    // A custom factory gets no Authorization header from SignalR: the token rides in the query, as browsers send it.
                    http.WebSocketFactory = async (context, cancellationToken) =>
                    {
                        var token = await _tokens.GetAsync(cancellationToken);
                        var withToken = new UriBuilder(context.Uri) { Query = context.Uri.Query.TrimStart('?') + "&access_token=" + Uri.EscapeDataString(token) }.Uri;
                        return await factory(withToken, cancellationToken);
                    };
                }
            })
            .WithAutomaticReconnect(new RetryForever(options.ReconnectDelays is { Count: > 0 } delays ? [.. delays] : DefaultDelays));
        if (options.Protocol == VaultProtocol.MessagePack)
        {
            builder.AddMessagePackProtocol();
        }

        if (options.LoggerFactory is { } loggerFactory)
        {
            builder.Services.AddSingleton(loggerFactory);
        }

        Hub = builder.Build();
        Hub.Reconnecting += error =>
        {
            ClientLog.Reconnecting(_logger, error?.Message);
            Reconnecting?.Invoke(error);
            return Task.CompletedTask;
        };
        Hub.Reconnected += OnReconnectedAsync;
        Hub.Closed += error =>
        {
            ClientLog.Closed(_logger, error?.Message);
            Closed?.Invoke(error);
            return Task.CompletedTask;
        };
    }

    /// <summary>Raised when the connection dropped and the client starts reconnecting.</summary>
    public event Action<Exception?>? Reconnecting;

    /// <summary>
    /// Raised once the connection is back and every open object made its first restore attempt (side by side): it
    /// resubscribed, failed for good (<see cref="SharedObject.RestoreFailed"/>), or retries in the background.
    /// </summary>
    public event Action? Reconnected;

    /// <summary>Raised when the connection ended for good (disposed, or the server refused a reconnect).</summary>
    public event Action<Exception?>? Closed;

    /// <summary>The options the client was created with.</summary>
    public VaultClientOptions Options { get; }

    /// <summary>Whether the client is connected, connecting or reconnecting.</summary>
    public HubConnectionState State => Hub.State;

    internal HubConnection Hub { get; }

    internal CancellationToken Disposing => _disposed.Token;

    /// <summary>Counts reconnects: an object remembers the number it opened on, so a reconnect restores only those opened before it.</summary>
    internal long ConnectionNumber => Interlocked.Read(ref _connectionNumber);

    /// <summary>Connects to the gateway.</summary>
    public static async Task<VaultClient> ConnectAsync(VaultClientOptions options, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (options.CloseTimeout <= TimeSpan.Zero && options.CloseTimeout != Timeout.InfiniteTimeSpan)
        {
            throw new ArgumentOutOfRangeException(nameof(options), options.CloseTimeout, "CloseTimeout must be positive (or Timeout.InfiniteTimeSpan).");
        }

        var client = new VaultClient(options);
        try
        {
            await client.Hub.StartAsync(cancellationToken);
            return client;
        }
        catch (Exception error)
        {
            await client.DisposeAsync();
            throw Translate(error);
        }
    }

    /// <summary>
    /// Opens a shared object and subscribes to its events. <paramref name="options"/> carries the object-id signature
    /// (for classes that require one) and the end-to-end encryption passphrase.
    /// </summary>
    /// <remarks>
    /// One object is open at most once per client: opening it again, or concurrently, returns the same
    /// <see cref="SharedObject"/> (the first call's <paramref name="options"/> apply) once its one open completed, and
    /// disposing that instance closes it for every holder. A caller whose <paramref name="cancellationToken"/> fires
    /// stops waiting; when it was the caller whose open was running, the open is abandoned and the others open again.
    /// </remarks>
    public async Task<SharedObject> OpenAsync(string objectClass, string objectId, OpenOptions? options = null, CancellationToken cancellationToken = default)
    {
        var target = new ObjectRef(objectClass, objectId, options?.IdSignature, options?.IdSignatureKeyVersion);
        var key = objectClass + "/" + objectId;
        while (true)
        {
            ObjectDisposedException.ThrowIf(_disposed.IsCancellationRequested, this);

            // Registered before it opens, so a reconnect meanwhile restores it too.
            var shared = _objects.GetOrAdd(key, _ => new SharedObject(this, target, options ?? new OpenOptions()));
            try
            {
                await shared.OpenOnceAsync(cancellationToken).WaitAsync(cancellationToken);
                if (!shared.IsDisposed)
                {
                    return shared;
                }
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_disposed.IsCancellationRequested)
            {
                // Another caller's open of this object was cancelled (and forgotten): open it again.
            }

            Forget(shared);
        }
    }

    /// <summary>Closes every object and the connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_disposed.IsCancellationRequested)
        {
            return;
        }

        // Side by side: each waits at most CloseTimeout for its close to be confirmed.
        await Task.WhenAll(_objects.Values.Select(shared => shared.DisposeAsync().AsTask()));
        await _disposed.CancelAsync();
        await Hub.DisposeAsync();
        _tokens.Dispose();
        _disposed.Dispose();
    }

    internal void Forget(SharedObject shared) =>
        _objects.TryRemove(new KeyValuePair<string, SharedObject>(shared.Class + "/" + shared.Id, shared));

    /// <summary>Calls a hub method, turning hub errors into <see cref="VaultClientException"/>s with their codes.</summary>
    internal async Task<T> InvokeAsync<T>(string method, object?[] args, CancellationToken cancellationToken)
    {
        try
        {
            EnsureConnected();
            return await Hub.InvokeCoreAsync<T>(method, args, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Translate(error);
        }
    }

    internal async Task InvokeAsync(string method, object?[] args, CancellationToken cancellationToken)
    {
        try
        {
            EnsureConnected();
            await Hub.InvokeCoreAsync(method, args, cancellationToken);
        }
        catch (Exception error) when (error is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            throw Translate(error);
        }
    }

    /// <summary>
    /// Fails a call at once while the connection is down. (SignalR would make it wait for the connection's lock, which a
    /// reconnect attempt holds for as long as it takes, a slow token provider or connect included.)
    /// </summary>
    private void EnsureConnected()
    {
        if (Hub.State != HubConnectionState.Connected)
        {
            throw new VaultClientException(ClientErrorCodes.Disconnected, $"The connection to the gateway is down ({Hub.State}).");
        }
    }

    internal static VaultClientException Translate(Exception error)
    {
        switch (error)
        {
            case VaultClientException known:
                return known;
            case HubException hub:
            {
                var (code, message) = NativeProtocol.ParseError(hub.Message, ClientErrorCodes.Unexpected);
                return new VaultClientException(code, message, hub);
            }

            case InvalidOperationException or OperationCanceledException or IOException or System.Net.WebSockets.WebSocketException or HttpRequestException:
                return new VaultClientException(ClientErrorCodes.Disconnected, "The connection to the gateway is down: " + error.Message, error);
            default:
                return new VaultClientException(ClientErrorCodes.Unexpected, error.Message, error);
        }
    }

    private async Task OnReconnectedAsync(string? connectionId)
    {
        var number = Interlocked.Increment(ref _connectionNumber);
        ClientLog.Reconnected(_logger, _objects.Count);
        await Task.WhenAll(_objects.Values.Select(shared => shared.RestoreAsync(number)));
        Reconnected?.Invoke();
    }

    /// <summary>Reconnects until disposed, with the configured waits (the last one repeats).</summary>
    private sealed class RetryForever(TimeSpan[] delays) : IRetryPolicy
    {
        public TimeSpan? NextRetryDelay(RetryContext retryContext) =>
            delays[(int)Math.Min(retryContext.PreviousRetryCount, delays.Length - 1)];
    }
}

/// <summary>How to open a shared object.</summary>
public sealed class OpenOptions
{
    /// <summary>The object-id signature your backend made (for classes that require one).</summary>
    public string? IdSignature { get; init; }

    /// <summary>The version of the key that made <see cref="IdSignature"/>; null means the class's current key.</summary>
    public int? IdSignatureKeyVersion { get; init; }

    /// <summary>
    /// Turns on end-to-end encryption: values, messages and presence data are encrypted with a key derived from this
    /// passphrase, compatible with <c>@vaultrice/sdk</c>'s <c>passphrase</c> option. The server never sees plaintext.
    /// </summary>
    public string? Passphrase { get; init; }
}
