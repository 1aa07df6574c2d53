using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using Orleans.Serialization;
using OrleansVault.Grains.Channels;
using OrleansVault.Grains.Placement;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Webhooks;
using OrleansVault.Grains.Audit;
using System.Net;
using Npgsql;
using Orleans.Storage;
using OrleansVault.Hosting.Audit;
using OrleansVault.Hosting.Cluster;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;

namespace OrleansVault.Hosting;

/// <summary>Configures a silo the same way in the gateway's embedded mode and in the standalone silo.</summary>
public static class VaultSiloHostingExtensions
{
    /// <summary>
    /// Adds OrleansVault's grains, storage and options: localhost clustering and SQLite in embedded mode; AdoNet
    /// membership and encrypted grain state (batched writes, <see cref="PostgresGrainStorage"/>) on PostgreSQL in cluster mode (<c>Vault:Cluster:Enabled</c>).
    /// </summary>
    public static ISiloBuilder AddVaultSilo(this ISiloBuilder silo, IConfiguration configuration)
    {
        var siloOptions = VaultSiloOptions.From(configuration);
        var cluster = VaultClusterOptions.From(configuration);
        var services = silo.Services;
        if (cluster.Enabled)
        {
            silo.UseAdoNetClustering(o =>
            {
                o.Invariant = PostgresInvariant;
                o.ConnectionString = cluster.ConnectionString;
            });
            silo.Configure<ClusterOptions>(o =>
            {
                o.ClusterId = siloOptions.ClusterId;
                o.ServiceId = siloOptions.ServiceId;
            });
            // A silo advertising a loopback address listens on it only; one reachable from elsewhere listens on all addresses.
            var advertised = cluster.ResolveAdvertisedAddress();
            silo.ConfigureEndpoints(advertised, siloOptions.SiloPort, siloOptions.GatewayPort, listenOnAnyHostAddress: !IPAddress.IsLoopback(advertised));

            // Failure detection: production defaults from Orleans; tests make them short (Vault:Cluster:Membership:*).
            silo.Configure<ClusterMembershipOptions>(configuration.GetSection(MembershipSection));
            silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
            services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SchemaStartupCheck>();
            // A gateway hosting this silo calls objects from inside it: the same retry as a client gateway's (a silo's
            // own calls to objects are safe to repeat on the same condition).
            silo.AddOutgoingGrainCallFilter<StaleWriteRetry>();
        }
        else
        {
            silo.UseLocalhostClustering(siloOptions.SiloPort, siloOptions.GatewayPort, serviceId: siloOptions.ServiceId, clusterId: siloOptions.ClusterId);
        }

        services.TryAddTimeProvider();
        services.AddOptions<SharedObjectOptions>().Bind(configuration.GetSection(SharedObjectOptions.Section))
            .Validate(o => o.HistoryLength is > 0 and <= 100_000, "Vault:Objects:HistoryLength must be between 1 and 100000.")
            .Validate(o => o.HistoryMaxBytes >= 1024, "Vault:Objects:HistoryMaxBytes must be at least 1024.")
            .Validate(o => o.ResumeWindow > TimeSpan.Zero, "Vault:Objects:ResumeWindow must be positive.")
            .Validate(o => o.PurgeInterval > TimeSpan.Zero, "Vault:Objects:PurgeInterval must be positive.")
            .Validate(o => o.FeedLease > TimeSpan.Zero, "Vault:Objects:FeedLease must be positive.")
            .Validate(o => o.MaxObjectBytes >= 1024, "Vault:Objects:MaxObjectBytes must be at least 1024.")
            .Validate(o => o.MaxObjectsPerProject > 0, "Vault:Objects:MaxObjectsPerProject must be positive.")
            .ValidateOnStart();
        services.AddSingleton<FeedPushes>();
        services.AddHostedService<FeedPushSweep>();
        silo.AddVaultPlacement();
        services.AddVaultStorage(configuration, cluster);
        services.AddVaultEncryption(configuration, cluster.Enabled);
        services.AddGrainStorage(SharedObjectOptions.StorageName, (sp, _) => sp.GetRequiredService<SealedGrainStorage>());

        services.AddSingleton<IAuditStore>(sp => new AuditLogStore(sp.GetRequiredService<IVaultDatabase>()));
        services.AddVaultChannels(configuration);
        services.AddSingleton<ILifecycleParticipant<ISiloLifecycle>, SiloReadyLog>();
        services.AddHostedService<ClusterViewLog>();
        return silo;
    }

    /// <summary>Shared objects are placed on their owner silo (<see cref="OwnerSiloPlacement"/>), where gateways send their calls.</summary>
    public static ISiloBuilder AddVaultPlacement(this ISiloBuilder silo) =>
        silo.AddPlacementDirector<OwnerSiloPlacement, OwnerSiloPlacementDirector>();

    /// <summary>The ADO.NET invariant of PostgreSQL (Npgsql).</summary>
    public const string PostgresInvariant = "Npgsql";

    /// <summary>Where Orleans' failure-detection settings are bound from (ClusterMembershipOptions: ProbeTimeout, NumMissedProbesLimit, …).</summary>
    public const string MembershipSection = "Vault:Cluster:Membership";

    /// <summary>Pusher channels: channel options and the durable webhook outbox with its dispatcher.</summary>
    public static IServiceCollection AddVaultChannels(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<ChannelOptions>().Bind(configuration.GetSection(ChannelOptions.Section))
            .Validate(o => o.FeedLease > TimeSpan.Zero && o.CacheTtl > TimeSpan.Zero && o.IndexRefresh > TimeSpan.Zero
                && o.SubscriptionCountInterval > TimeSpan.Zero && o.AppCacheTtl >= TimeSpan.Zero, "Vault:Channels intervals must be positive.")
            .ValidateOnStart();
        services.AddOptions<WebhookOptions>().Bind(configuration.GetSection(WebhookOptions.Section))
            .Validate(o => o.PollInterval > TimeSpan.Zero && o.RequestTimeout > TimeSpan.Zero && o.Backoff > TimeSpan.Zero && o.MaxBackoff >= o.Backoff,
                "Vault:Webhooks: PollInterval, RequestTimeout and Backoff must be positive, MaxBackoff at least Backoff.")
            .Validate(o => o.MaxEventsPerRequest is > 0 and <= 10_000 && o.MaxAttempts > 0 && o.ImmediateRetries >= 0 && o.BatchDelay >= TimeSpan.Zero,
                "Vault:Webhooks: MaxEventsPerRequest 1-10000, MaxAttempts positive, ImmediateRetries and BatchDelay not negative.")
            .ValidateOnStart();
        services.AddSingleton(sp => new WebhookOutbox(
            sp.GetRequiredService<IVaultDatabase>(),
            sp.GetRequiredService<StateProtector>(),
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<IChannelWebhooks>(sp => sp.GetRequiredService<WebhookOutbox>());
        services.AddHttpClient(WebhookDispatcher.HttpClientName);
        services.AddHostedService<WebhookDispatcher>();
        return services;
    }

    /// <summary>
    /// The node's database and grain storage, for silos and the <c>admin</c> command alike: PostgreSQL (one data source,
    /// <see cref="PostgresGrainStorage"/>) in cluster mode, else the SQLite file (<see cref="SqliteGrainStorage"/>).
    /// The storage is registered as <see cref="SealedGrainStorage"/> and as <see cref="IStoredStates"/>.
    /// </summary>
    public static IServiceCollection AddVaultStorage(this IServiceCollection services, IConfiguration configuration, VaultClusterOptions cluster)
    {
        services.AddVaultStorageOptions(configuration);
        if (cluster.Enabled)
        {
            var serviceId = VaultSiloOptions.From(configuration).ServiceId;
            services.AddSingleton(_ => NpgsqlDataSource.Create(cluster.ConnectionString!));
            services.AddSingleton<IVaultDatabase>(sp => new PostgresDatabase(sp.GetRequiredService<NpgsqlDataSource>()));
            services.AddSingleton<SealedGrainStorage>(sp => new PostgresGrainStorage(
                sp.GetRequiredService<NpgsqlDataSource>(),
                serviceId,
                cluster.Storage,
                sp.GetRequiredService<Serializer>(),
                sp.GetRequiredService<StateProtector>(),
                sp.GetRequiredService<ILogger<PostgresGrainStorage>>()));
        }
        else
        {
            services.AddVaultSqliteDatabase();
            services.AddSingleton<SealedGrainStorage>(sp => new SqliteGrainStorage(
                SharedObjectOptions.StorageName,
                sp.GetRequiredService<IOptions<SqliteStorageOptions>>().Value,
                sp.GetRequiredService<Serializer>(),
                sp.GetRequiredService<StateProtector>(),
                sp.GetRequiredService<ILogger<SqliteGrainStorage>>()));
        }

        services.AddSingleton<IStoredStates>(sp => sp.GetRequiredService<SealedGrainStorage>());
        return services;
    }

    /// <summary>Embedded mode's own tables (data keys, audit log, webhook outbox) in the SQLite file beside the grain state.</summary>
    public static IServiceCollection AddVaultSqliteDatabase(this IServiceCollection services) =>
        services.AddSingleton<IVaultDatabase>(sp => new SqliteTables(
            sp.GetRequiredService<IOptions<SqliteStorageOptions>>().Value.ConnectionString,
            DataKeyStore.SqliteSchema + AuditLogStore.SqliteSchema + WebhookOutbox.SqliteSchema));

    /// <summary>Where and how embedded mode stores state (<c>Vault:DataDirectory</c>, <c>Vault:Storage</c>).</summary>
    public static IServiceCollection AddVaultStorageOptions(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<SqliteStorageOptions>()
            .Bind(configuration.GetSection("Vault:Storage"))

            // One data directory for everything (the SQLite file and the development credentials): Vault:DataDirectory.
            .PostConfigure(o => o.DataDirectory = configuration["Vault:DataDirectory"] ?? "./data")
            .Validate(o => o.Synchronous is "FULL" or "NORMAL" or "EXTRA", "Vault:Storage:Synchronous must be FULL, NORMAL or EXTRA.")
            .Validate(o => !string.IsNullOrWhiteSpace(o.DataDirectory), "Vault:DataDirectory must not be empty.")
            .Validate(o => o.MaxWritesPerCommit is > 0 and <= 100_000, "Vault:Storage:MaxWritesPerCommit must be between 1 and 100000.")
            .ValidateOnStart();
        return services;
    }

    /// <summary>At-rest encryption: the master key ring, the data keys it wraps, and the protector storage uses.</summary>
    public static IServiceCollection AddVaultEncryption(this IServiceCollection services, IConfiguration configuration, bool clusterMode = false)
    {
        services.TryAddTimeProvider();
        services.AddOptions<MasterKeyOptions>()
            .Bind(configuration.GetSection("Vault"))
            .Bind(configuration.GetSection("Vault:Encryption"))

            // Cluster mode never generates a master key: every node must be given the same one.
            .PostConfigure(o => o.GenerateMasterKey &= !clusterMode)
            .Validate(o => o.KeyCacheRefresh > TimeSpan.Zero, "Vault:Encryption:KeyCacheRefresh must be positive.")
            .ValidateOnStart();
        services.AddSingleton(sp => MasterKeyRing.Load(
            sp.GetRequiredService<IOptions<MasterKeyOptions>>().Value,
            sp.GetRequiredService<IOptions<SqliteStorageOptions>>().Value.DataDirectory,
            sp.GetRequiredService<ILoggerFactory>().CreateLogger("OrleansVault.Hosting.Encryption")));
        services.AddSingleton(sp => new DataKeyStore(
            sp.GetRequiredService<IVaultDatabase>(),
            sp.GetRequiredService<MasterKeyRing>(),
            sp.GetRequiredService<IOptions<MasterKeyOptions>>().Value.KeyCacheRefresh,
            sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton<StateProtector>();

        // Fail at start-up, not at the first write, when the master key is missing or cannot unwrap the stored data keys.
        services.AddHostedService<EncryptionStartupCheck>();
        return services;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
        {
            services.AddSingleton(TimeProvider.System);
        }
    }
}

/// <summary>Silo network settings, bound from <c>Vault:Silo</c>.</summary>
public sealed class VaultSiloOptions
{
    public const string Section = "Vault:Silo";

    public int SiloPort { get; set; } = EndpointOptions.DEFAULT_SILO_PORT;

    public int GatewayPort { get; set; } = EndpointOptions.DEFAULT_GATEWAY_PORT;

    public string ClusterId { get; set; } = "orleansvault";

    public string ServiceId { get; set; } = "orleansvault";

    public static VaultSiloOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<VaultSiloOptions>() ?? new VaultSiloOptions();
}
