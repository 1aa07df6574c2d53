using System.Net;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Grains.Placement;
using OrleansVault.Hosting.Cluster;

namespace OrleansVault.Gateway.Hosting;

/// <summary>
/// Cluster mode, <c>Vault:Cluster:DirectRouting</c>: sends each shared object's calls straight to the silo that owns
/// the object (<see cref="OwnerSilo"/>, the function silos place objects by), through one Orleans client per silo.
/// The gateway's main client picks a silo per hash bucket, not per grain, so without this about (N-1)/N of the calls
/// reach a silo that does not hold the object, which forwards the call and its answer.
/// </summary>
/// <remarks>
/// The active silos are re-read every <c>Vault:Cluster:RoutingRefresh</c>. A silo whose client loses its connection is
/// taken out of the routes at once; its objects' calls then go through the main client, as they do while a silo has no
/// client gateway or its client is not connected yet, and for whatever the routes do not know. Feeds keep their
/// observers on the main client but name a push hub made on the owner's client, so pushes come back over that
/// connection too; they subscribe again whenever the routes change (<see cref="Changed"/>).
/// </remarks>
public sealed class SiloRouter(IClusterClient main, IConfiguration configuration, ILoggerFactory loggers) : BackgroundService
{
    private readonly ILogger _logger = loggers.CreateLogger<SiloRouter>();
    private readonly VaultClusterOptions _cluster = VaultClusterOptions.From(configuration);
    private readonly Dictionary<SiloAddress, SiloClient> _clients = [];
    private readonly HashSet<SiloClient> _retiring = [];
    private readonly CancellationTokenSource _stopping = new();
    private readonly Lock _publish = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly TaskCompletionSource _firstRound = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile Routes _routes = Routes.None;
    private volatile TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Completes once the first round of reading the silos and connecting to them is over (whatever it found).</summary>
    public Task FirstRound => _firstRound.Task;

    /// <summary>Completes the next time the routes change (feeds then subscribe again, so pushes take the new routes too).</summary>
    public Task Changed => _changed.Task;

    /// <summary>Changes whenever the routes do: a reference made under one version is good until the next.</summary>
    public long Version => _routes.Version;

    /// <summary>The client whose references reach <paramref name="grain"/>'s owner directly; null while there is none (use the main client).</summary>
    public IClusterClient? DirectFor(GrainId grain)
    {
        var routes = _routes;
        return OwnerSilo.Of(grain, routes.Silos) is { } owner && routes.Clients.TryGetValue(owner, out var client) ? client : null;
    }

    /// <summary>
    /// The silos the routes know, which of them have a direct client, and how many clients that left the routes wait
    /// out the response timeout before they are disposed (for tests and diagnostics).
    /// </summary>
    public (IReadOnlyList<SiloAddress> Silos, IReadOnlyCollection<SiloAddress> Direct, int Retiring) Snapshot()
    {
        var routes = _routes;
        int retiring;
        lock (_publish)
        {
            retiring = _retiring.Count;
        }

        return (routes.Silos, [.. routes.Clients.Keys], retiring);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    await RefreshAsync(stoppingToken);
                }
                catch (Exception error) when (error is not OperationCanceledException && error is not OutOfMemoryException)
                {
                    GatewayLog.RoutingFailed(_logger, error.GetType().Name);
                }

                _firstRound.TrySetResult();
                await _wake.WaitAsync(_cluster.RoutingRefresh, stoppingToken);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Shutting down.
        }
        finally
        {
            _firstRound.TrySetResult();
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await _stopping.CancelAsync();
        await base.StopAsync(cancellationToken);
        List<SiloClient> clients;
        lock (_publish)
        {
            clients = [.. _clients.Values, .. _retiring];
            _clients.Clear();
            _retiring.Clear();
        }

        Publish([]);
        foreach (var client in clients)
        {
            await client.DisposeAsync();
        }
    }

    public override void Dispose()
    {
        _stopping.Dispose();
        base.Dispose();
    }

    private async Task RefreshAsync(CancellationToken cancellationToken)
    {
        var hosts = await main.GetGrain<IManagementGrain>(0).GetDetailedHosts(onlyActive: true);
        var active = hosts.ToDictionary(h => h.SiloAddress);

        // Clients of silos that left, or whose connection dropped (a new one is made below if the silo is still there).
        lock (_publish)
        {
            foreach (var client in _clients.Values.Where(c => !active.ContainsKey(c.Silo) || !c.Connected).ToList())
            {
                _clients.Remove(client.Silo);
                _retiring.Add(client);
                _ = RetireAsync(client);
            }
        }

        Publish([.. active.Keys.Order()]);

        // Only this loop adds clients, so reading the map outside the lock is safe here.
        foreach (var host in hosts.Where(h => h.ProxyPort > 0 && !_clients.ContainsKey(h.SiloAddress)))
        {
            var gateway = new IPEndPoint(host.SiloAddress.Endpoint.Address, host.ProxyPort);
            try
            {
                var client = await SiloClient.StartAsync(host.SiloAddress, gateway, configuration, loggers, OnConnectionLost, cancellationToken);
                lock (_publish)
                {
                    _clients[host.SiloAddress] = client;
                }

                GatewayLog.RouteOpened(_logger, host.SiloAddress.ToString());
            }
            catch (Exception error) when (error is not OperationCanceledException && error is not OutOfMemoryException)
            {
                // The silo is starting or dying: its objects go through the main client until the next round.
                GatewayLog.RouteUnavailable(_logger, host.SiloAddress.ToString(), error.GetType().Name);
            }
        }

        Publish([.. active.Keys.Order()]);
    }

    /// <summary>
    /// Disposes a client out of the routes once calls made through it just before had their time to answer (or fail
    /// as grain calls do, rather than on a disposed client): after <c>Vault:Cluster:ResponseTimeout</c>, or at stop.
    /// </summary>
    private async Task RetireAsync(SiloClient client)
    {
        try
        {
            await Task.Delay(_cluster.ResponseTimeout, _stopping.Token);
        }
        catch (OperationCanceledException)
        {
            return; // StopAsync disposes it.
        }

        lock (_publish)
        {
            if (!_retiring.Remove(client))
            {
                return;
            }
        }

        await client.DisposeAsync();
    }

    private void OnConnectionLost(SiloAddress silo)
    {
        GatewayLog.RouteLost(_logger, silo.ToString());
        Publish(_routes.Silos);
        _wake.Release();
    }

    /// <summary>Publishes the routes over <paramref name="silos"/> through the clients that are connected, if they changed.</summary>
    private void Publish(IReadOnlyList<SiloAddress> silos)
    {
        lock (_publish)
        {
            var clients = _clients.Where(c => c.Value.Connected).ToDictionary(c => c.Key, c => c.Value.Client);
            var current = _routes;
            if (current.Silos.SequenceEqual(silos) && current.Clients.Count == clients.Count && clients.Keys.All(current.Clients.ContainsKey))
            {
                return;
            }

            _routes = new Routes(current.Version + 1, silos, clients);
            _changed.TrySetResult();
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
    }

    private sealed record Routes(long Version, IReadOnlyList<SiloAddress> Silos, IReadOnlyDictionary<SiloAddress, IClusterClient> Clients)
    {
        public static Routes None { get; } = new(0, [], new Dictionary<SiloAddress, IClusterClient>());
    }

    /// <summary>An Orleans client connected to one silo's client gateway only, in a host of its own.</summary>
    private sealed class SiloClient : IClusterConnectionStatusObserver, IAsyncDisposable
    {
        private readonly Action<SiloAddress> _lost;
        private IHost? _host;
        private volatile bool _connected;

        private SiloClient(SiloAddress silo, Action<SiloAddress> lost)
        {
            Silo = silo;
            _lost = lost;
        }

        public SiloAddress Silo { get; }

        public bool Connected => _connected;

        public IClusterClient Client { get; private set; } = null!;

        public static async Task<SiloClient> StartAsync(
            SiloAddress silo, IPEndPoint gateway, IConfiguration configuration, ILoggerFactory loggers, Action<SiloAddress> lost, CancellationToken cancellationToken)
        {
            var client = new SiloClient(silo, lost);
            var host = new HostBuilder()
                .UseOrleansClient(builder =>
                {
                    builder.AddVaultSiloClient(configuration, gateway);
                    builder.Services.AddSingleton<IClusterConnectionStatusObserver>(client);
                })
                .ConfigureServices(services => services.AddSingleton(loggers))
                .Build();
            // Connected from the start: a loss reported while starting then sticks, and the next round replaces the client.
            client._connected = true;
            try
            {
                await host.StartAsync(cancellationToken);
            }
            catch
            {
                host.Dispose();
                throw;
            }

            client._host = host;
            client.Client = host.Services.GetRequiredService<IClusterClient>();
            return client;
        }

        public void NotifyClusterConnectionLost() => Lose();

        public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered)
        {
            if (currentNumberOfGateways == 0)
            {
                Lose();
            }
        }

        public async ValueTask DisposeAsync()
        {
            _connected = false;
            if (_host is { } host)
            {
                _host = null;
                try
                {
                    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
                    await host.StopAsync(timeout.Token);
                }
                catch (Exception error) when (error is not OutOfMemoryException)
                {
                    // A client of a dead silo may fail to stop cleanly; it is disposed either way.
                }
                finally
                {
                    host.Dispose();
                }
            }
        }

        private void Lose()
        {
            if (_connected)
            {
                _connected = false;
                _lost(Silo);
            }
        }
    }
}
