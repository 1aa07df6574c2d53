using System.Net;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using OrleansVault.Client;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>A gateway on real Kestrel (a loopback port), so the real SignalR client connects over real WebSockets.</summary>
public sealed class KestrelGateway : IAsyncDisposable
{
    private KestrelGateway(GatewayFactory factory, Uri baseUrl)
    {
        Factory = factory;
        BaseUrl = baseUrl;
    }

    public GatewayFactory Factory { get; }

    public Uri BaseUrl { get; }

    public static KestrelGateway Start(IDictionary<string, string?>? settings = null, Action<IServiceCollection>? services = null, TimeProvider? clock = null)
    {
        var factory = new GatewayFactory(settings: settings) { ExtraServices = services, Clock = clock };
        factory.UseKestrel(kestrel => kestrel.Listen(IPAddress.Loopback, 0));
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new KestrelGateway(factory, new Uri(address));
    }

    public VaultClientOptions Options(VaultProtocol protocol = VaultProtocol.Json, IReadOnlyList<TimeSpan>? reconnectDelays = null) => new()
    {
        BaseUrl = BaseUrl,
        ProjectId = GatewayFactory.ProjectId,
        ApiKey = GatewayFactory.ApiKey,
        ApiSecret = GatewayFactory.Secret,
        Protocol = protocol,
        ReconnectDelays = reconnectDelays,
    };

    /// <summary>An HTTP client for the gateway's real address, with the bootstrap key's Basic credentials.</summary>
    public HttpClient Http()
    {
        var http = new HttpClient { BaseAddress = BaseUrl };
        http.DefaultRequestHeaders.Authorization = System.Net.Http.Headers.AuthenticationHeaderValue.Parse(Factory.BasicHeader);
        return http;
    }

    /// <summary>Writes <c>{"value": value}</c> to an item over the HTTP API (another door, so no native client is involved).</summary>
    public async Task WriteOverHttpAsync(string cls, string id, string key, int value)
    {
        using var http = Http();
        using var response = await http.PostAsJsonAsync($"/project/{GatewayFactory.ProjectId}/cache/{cls}/{id}/{key}", new { value });
        response.EnsureSuccessStatusCode();
    }

    public async Task<string> TokenAsync(string? origin = null)
    {
        using var http = Http();
        using var request = new HttpRequestMessage(HttpMethod.Get, $"/project/{GatewayFactory.ProjectId}/auth/token");
        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await http.SendAsync(request);
        response.EnsureSuccessStatusCode();
        return await response.Content.ReadAsStringAsync();
    }

    public Task<VaultClient> ConnectAsync(VaultProtocol protocol = VaultProtocol.Json, IReadOnlyList<TimeSpan>? reconnectDelays = null) =>
        VaultClient.ConnectAsync(Options(protocol, reconnectDelays));

    /// <summary>A client whose tokens come through <paramref name="gate"/>: while it is shut, the client cannot come back.</summary>
    public Task<VaultClient> ConnectAsync(TokenGate gate, VaultProtocol protocol = VaultProtocol.Json) =>
        VaultClient.ConnectAsync(new VaultClientOptions
        {
            BaseUrl = BaseUrl,
            ProjectId = GatewayFactory.ProjectId,
            AccessTokenProvider = gate.GetAsync,
            Protocol = protocol,
            ReconnectDelays = [TimeSpan.Zero],
        });

    public async ValueTask DisposeAsync()
    {
        await Factory.DisposeAsync();
        Factory.DeleteData();
    }
}

/// <summary>An access token provider the test shuts and opens, so it decides when a dropped client may reconnect.</summary>
public sealed class TokenGate(KestrelGateway gateway)
{
    private TaskCompletionSource _open = Opened();

    /// <summary>From now on, token requests (a reconnect's) wait until <see cref="Open"/>.</summary>
    public void Shut() => Volatile.Write(ref _open, new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    public void Open() => Volatile.Read(ref _open).TrySetResult();

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        await Volatile.Read(ref _open).Task.WaitAsync(cancellationToken);
        return await gateway.TokenAsync();
    }

    private static TaskCompletionSource Opened()
    {
        var open = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        open.SetResult();
        return open;
    }
}

/// <summary>One Kestrel gateway shared by a test class; each test uses its own object ids.</summary>
public sealed class SharedKestrelGateway : IAsyncLifetime
{
    public KestrelGateway Gateway { get; private set; } = null!;

    public Task InitializeAsync()
    {
        Gateway = KestrelGateway.Start();
        return Task.CompletedTask;
    }

    public async Task DisposeAsync() => await Gateway.DisposeAsync();
}

/// <summary>Collects an object's events for assertions.</summary>
public sealed class EventLog
{
    private readonly List<VaultEvent> _events = [];

    public EventLog(SharedObject shared) => shared.EventReceived += (_, e) =>
    {
        lock (_events)
        {
            _events.Add(e);
        }
    };

    public IReadOnlyList<VaultEvent> Snapshot()
    {
        lock (_events)
        {
            return [.. _events];
        }
    }

    public async Task<VaultEvent> WaitForAsync(Func<VaultEvent, bool> match, string what)
    {
        VaultEvent? found = null;
        await Wait.UntilAsync(() => Task.FromResult((found = Snapshot().FirstOrDefault(match)) is not null), what);
        return found!;
    }
}
