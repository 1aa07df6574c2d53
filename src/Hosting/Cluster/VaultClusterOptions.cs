using Microsoft.Extensions.Configuration;
using Npgsql;

namespace OrleansVault.Hosting.Cluster;

/// <summary>
/// Cluster mode (<c>Vault:Cluster</c>): membership and grain state on PostgreSQL, standalone silos, gateways as Orleans
/// clients. Off by default (embedded mode: one process, SQLite). Read once at start-up; a bad setting stops the
/// process with a message naming the key.
/// </summary>
public sealed class VaultClusterOptions
{
    public const string Section = "Vault:Cluster";

    public bool Enabled { get; set; }

    /// <summary>The PostgreSQL connection string (Npgsql), e.g. <c>Host=db;Username=vault;Password=…;Database=vault</c>.</summary>
    public string? ConnectionString { get; set; }

    /// <summary>
    /// How long a grain call may wait for its answer (silos and gateways). After a silo dies, calls to grains it held
    /// fail after this long until the cluster has declared it dead; production default 30 s, tests use a few seconds.
    /// </summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// The address a silo advertises to the other silos and to gateways: an IP address, or a host name resolved at
    /// start-up (a container's service name). Default 127.0.0.1.
    /// </summary>
    public string AdvertisedAddress { get; set; } = "127.0.0.1";

    /// <summary>
    /// The most connections one process opens to PostgreSQL, unless the connection string sets its own
    /// <c>Maximum Pool Size</c>. Npgsql's default (100 per pool) lets a few busy silos exhaust the server's
    /// <c>max_connections</c> (100 by default); storage batches its writes, so few connections carry the load. Default 20.
    /// </summary>
    public int MaxPoolSize { get; set; } = 20;

    /// <summary>
    /// Whether a gateway sends each shared object's calls straight to the silo that owns the object (one Orleans
    /// client per silo; see <c>OwnerSilo</c>), instead of through whichever silo its single client picks, which forwards
    /// the call (and its answer) when it does not hold the object. Default true.
    /// </summary>
    public bool DirectRouting { get; set; } = true;

    /// <summary>
    /// Whether a gateway hosts a silo of the cluster in its own process (each node is a gateway and a silo) instead of
    /// being an Orleans client of standalone silos. Its calls to the objects and channels its silo owns then stay in the
    /// process; calls to the others go straight to their owner silo, so direct routing is not used. Standalone silos and
    /// client gateways may join the same cluster. Default false.
    /// </summary>
    public bool HostSilo { get; set; }

    /// <summary>How often a gateway re-reads the active silos for direct routing. A silo whose connection drops is taken out at once. Default 5 s.</summary>
    public TimeSpan RoutingRefresh { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How silos batch grain-state writes (<c>Vault:Cluster:Storage:MaxWritesPerCommit</c>, <c>Writers</c>).</summary>
    public Persistence.PostgresStorageSettings Storage { get; set; } = new();

    /// <summary>The advertised address as an IP address (a host name is resolved to its first IPv4 address).</summary>
    public System.Net.IPAddress ResolveAdvertisedAddress() =>
        System.Net.IPAddress.TryParse(AdvertisedAddress, out var address)
            ? address
            : System.Net.Dns.GetHostAddresses(AdvertisedAddress).FirstOrDefault(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork)
              ?? throw new InvalidOperationException($"Vault:Cluster:AdvertisedAddress '{AdvertisedAddress}' does not resolve to an IPv4 address.");

    public static VaultClusterOptions From(IConfiguration configuration)
    {
        var options = configuration.GetSection(Section).Get<VaultClusterOptions>() ?? new VaultClusterOptions();
        if (!options.Enabled)
        {
            return options;
        }

        if (string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            throw new InvalidOperationException("Vault:Cluster:ConnectionString is required when Vault:Cluster:Enabled is true (a PostgreSQL connection string).");
        }

        if (options.MaxPoolSize < 1)
        {
            throw new InvalidOperationException("Vault:Cluster:MaxPoolSize must be positive.");
        }

        if (options.Storage.MaxWritesPerCommit is < 1 or > 100_000 || options.Storage.Writers is < 1 or > 64)
        {
            throw new InvalidOperationException("Vault:Cluster:Storage: MaxWritesPerCommit must be between 1 and 100000, Writers between 1 and 64.");
        }

        try
        {
            options.ConnectionString = WithDefaults(options.ConnectionString, options.MaxPoolSize);
        }
        catch (ArgumentException error)
        {
            throw new InvalidOperationException($"Vault:Cluster:ConnectionString is not a valid PostgreSQL connection string: {error.Message}");
        }

        if (options.ResponseTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Vault:Cluster:ResponseTimeout must be positive.");
        }

        if (options.RoutingRefresh <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Vault:Cluster:RoutingRefresh must be positive.");
        }

        if (string.IsNullOrWhiteSpace(options.AdvertisedAddress))
        {
            throw new InvalidOperationException("Vault:Cluster:AdvertisedAddress must be an IP address or a host name.");
        }

        foreach (var key in new[] { "ClusterId", "ServiceId" })
        {
            if (configuration[$"Vault:Silo:{key}"] is { } value && string.IsNullOrWhiteSpace(value))
            {
                throw new InvalidOperationException($"Vault:Silo:{key} must not be empty.");
            }
        }

        return options;
    }

    /// <summary>
    /// The connection string a node uses: the given one, with <paramref name="maxPoolSize"/> as its pool cap and
    /// <see cref="AutoPreparedStatements"/> prepared statements per connection, unless it sets either itself.
    /// </summary>
    /// <remarks>
    /// Storage sends the same few statements hundreds of times per commit; prepared once per connection, PostgreSQL
    /// skips parsing and planning each of them, which doubles the writes one server stores per second (measured in
    /// docs/performance.md). Behind a pooler that cannot carry prepared statements, set <c>Max Auto Prepare=0</c>.
    /// </remarks>
    /// <exception cref="ArgumentException">The connection string is malformed.</exception>
    public static string WithDefaults(string connectionString, int maxPoolSize)
    {
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        var keys = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString }.Keys.Cast<string>()
            .Select(k => k.Replace(" ", string.Empty, StringComparison.Ordinal))
            .ToHashSet(StringComparer.OrdinalIgnoreCase);
        if (!keys.Contains("MaximumPoolSize") && !keys.Contains("MaxPoolSize"))
        {
            builder.MaxPoolSize = maxPoolSize;
        }

        if (!keys.Contains("MaxAutoPrepare"))
        {
            builder.MaxAutoPrepare = AutoPreparedStatements;
        }

        return builder.ConnectionString;
    }

    /// <summary>How many statements each PostgreSQL connection keeps prepared unless the connection string says otherwise.</summary>
    public const int AutoPreparedStatements = 20;
}
