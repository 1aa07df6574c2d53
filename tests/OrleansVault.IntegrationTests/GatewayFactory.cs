using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Logging;

namespace OrleansVault.IntegrationTests;

/// <summary>A real gateway with its co-hosted silo and SQLite storage in a temporary data directory, on free ports.</summary>
public sealed class GatewayFactory : WebApplicationFactory<Program>
{
    public const string ProjectId = "itest";
    public const string ApiKey = "itest-key";

    private readonly Dictionary<string, string?> _settings;

    public GatewayFactory(string? dataDirectory = null, bool bootstrap = true, IDictionary<string, string?>? settings = null)
    {
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "ov-itest-" + Guid.NewGuid().ToString("N"));
        _settings = new Dictionary<string, string?>
        {
            ["Vault:DataDirectory"] = DataDirectory,
            ["Vault:Silo:SiloPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Vault:Silo:GatewayPort"] = FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Vault:Storage:Synchronous"] = "NORMAL",
            ["Vault:Objects:PurgeInterval"] = "00:00:01",
            ["Vault:WebSockets:FeedRenewInterval"] = "00:00:00.250",
            ["Logging:LogLevel:Default"] = "Information",
            ["Logging:LogLevel:Microsoft.AspNetCore"] = "Information",
        };
        if (bootstrap)
        {
            _settings["Vault:Bootstrap:ProjectId"] = ProjectId;
            _settings["Vault:Bootstrap:ApiKey"] = ApiKey;
            _settings["Vault:Bootstrap:ApiSecret"] = Secret;
        }

        foreach (var (key, value) in settings ?? new Dictionary<string, string?>())
        {
            _settings[key] = value;
        }
    }

    public static string Secret { get; } = "itest-secret-" + Guid.NewGuid().ToString("N");

    public string DataDirectory { get; }

    /// <summary>Where embedded mode generates the master key when none is configured: beside the data directory.</summary>
    public string MasterKeyFile => DataDirectory.TrimEnd('/') + ".master.key";

    /// <summary>Replaces the clock of gateway and grains (for token expiry).</summary>
    public TimeProvider? Clock { get; init; }

    public CapturingLoggerProvider Logs { get; } = new();

    /// <summary>More service registrations for the gateway (say a grain call filter that holds a call).</summary>
    public Action<IServiceCollection>? ExtraServices { get; init; }

    public string BasicHeader => BasicFor(ApiKey, Secret);

    public static string BasicFor(string key, string secret) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes($"{key}:{secret}"));

    public HttpClient Client(string? authorization = null)
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false });
        if (authorization is not null)
        {
            client.DefaultRequestHeaders.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        return client;
    }

    public async Task<string> TokenAsync()
    {
        using var client = Client(BasicHeader);
        var response = await client.GetAsync($"/project/{ProjectId}/auth/token");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    public async Task<WebSocket> ConnectAsync(string cls, string id, string authorization, string? origin = null, string? extraQuery = null, string projectId = ProjectId)
    {
        var client = Server.CreateWebSocketClient();
        if (origin is not null)
        {
            client.ConfigureRequest = request => request.Headers.Origin = origin;
        }

        var uri = new Uri(Server.BaseAddress, $"/project/{projectId}/ws/{cls}/{id}?auth={Uri.EscapeDataString(authorization)}{(extraQuery is null ? "" : "&" + extraQuery)}");
        uri = new UriBuilder(uri) { Scheme = "ws" }.Uri;
        return await client.ConnectAsync(uri, CancellationToken.None);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }

        builder.ConfigureServices(services =>
        {
            services.AddSingleton<ILoggerProvider>(Logs);
            if (Clock is not null)
            {
                services.RemoveAll<TimeProvider>();
                services.AddSingleton(Clock);
            }

            ExtraServices?.Invoke(services);
        });
    }

    /// <summary>Extra values (admin tokens, generated secrets, identity secrets) that must never appear in this gateway's logs.</summary>
    public List<string> ForbiddenInLogs { get; } = [];

    /// <summary>
    /// Stops the gateway, then checks everything it logged during the test that used it: no API secret, no token (an
    /// ES256 JWT's header), no master key, nothing the test registered in <see cref="ForbiddenInLogs"/>. Every
    /// integration test's gateway goes through here, so the whole run's logs are checked.
    /// </summary>
    public override async ValueTask DisposeAsync()
    {
        await base.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        if (_logsChecked)
        {
            return;
        }

        _logsChecked = true;
        var forbidden = new List<string>(ForbiddenInLogs) { Secret, "eyJhbGciOiJ" };
        if (File.Exists(MasterKeyFile))
        {
            forbidden.Add(File.ReadAllText(MasterKeyFile).Trim());
        }

        var leaked = Logs.Lines.FirstOrDefault(line => forbidden.Any(f => f.Length > 0 && line.Contains(f, StringComparison.Ordinal)));
        if (leaked is not null)
        {
            throw new InvalidOperationException("A secret, token or key reached the gateway's logs: " + leaked[..Math.Min(leaked.Length, 200)]);
        }
    }

    private bool _logsChecked;

    public void DeleteData()
    {
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
            File.Delete(MasterKeyFile);
        }
        catch (IOException)
        {
            // Best effort: the temp directory is unique to this test run.
        }
    }

    public static int FreePortForTests() => FreePort();

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>One gateway shared by the tests of a collection; each test uses its own object ids.</summary>
public sealed class SharedGateway : IAsyncLifetime
{
    public GatewayFactory Factory { get; } = new();

    public Task InitializeAsync()
    {
        _ = Factory.Server;
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await Factory.DisposeAsync();
        Factory.DeleteData();
    }
}

[CollectionDefinition(Name)]
public sealed class GatewayCollection : ICollectionFixture<SharedGateway>
{
    public const string Name = "gateway";
}

/// <summary>Keeps every log line written, to prove secrets never reach the logging pipeline.</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly System.Collections.Concurrent.ConcurrentQueue<string> _lines = new();

    public IEnumerable<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(CapturingLoggerProvider owner, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            owner._lines.Enqueue($"{category}: {formatter(state, exception)} {exception}");

    }
}

/// <summary>A clock that can be moved forward while everything keeps running.</summary>
public sealed class ShiftedClock : TimeProvider
{
    private long _offsetTicks;

    public void Advance(TimeSpan by) => Interlocked.Add(ref _offsetTicks, by.Ticks);

    public override DateTimeOffset GetUtcNow() => base.GetUtcNow() + TimeSpan.FromTicks(Interlocked.Read(ref _offsetTicks));
}
