using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Orleans.Configuration;

namespace OrleansVault.Hosting.Cluster;

/// <summary>Configures a gateway as an Orleans client of a cluster-mode cluster (membership on PostgreSQL).</summary>
public static partial class VaultClientHostingExtensions
{
    public static IClientBuilder AddVaultClusterClient(this IClientBuilder client, IConfiguration configuration)
    {
        var cluster = VaultClusterOptions.From(configuration);
        client.UseAdoNetClustering(o =>
        {
            o.Invariant = VaultSiloHostingExtensions.PostgresInvariant;
            o.ConnectionString = cluster.ConnectionString;
        });
        client.Configure<GatewayOptions>(configuration.GetSection("Vault:Cluster:Gateways"));
        client.Services.AddSingleton<IClientConnectionRetryFilter, WaitForSilos>();
        return client.AddClusterIdentity(configuration, cluster);
    }

    /// <summary>
    /// Configures a client of one silo only (its client gateway at <paramref name="gateway"/>): a gateway's direct route
    /// to the objects that silo owns. It does not wait for the silo: if the silo does not answer, starting fails.
    /// </summary>
    public static IClientBuilder AddVaultSiloClient(this IClientBuilder client, IConfiguration configuration, System.Net.IPEndPoint gateway)
    {
        client.UseStaticClustering(gateway);
        return client.AddClusterIdentity(configuration, VaultClusterOptions.From(configuration));
    }

    private static IClientBuilder AddClusterIdentity(this IClientBuilder client, IConfiguration configuration, VaultClusterOptions cluster)
    {
        var siloOptions = configuration.GetSection(VaultSiloOptions.Section).Get<VaultSiloOptions>() ?? new VaultSiloOptions();
        client.Configure<ClusterOptions>(o =>
        {
            o.ClusterId = siloOptions.ClusterId;
            o.ServiceId = siloOptions.ServiceId;
        });
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
        client.AddOutgoingGrainCallFilter<StaleWriteRetry>();
        return client;
    }

    /// <summary>
    /// A gateway started before any silo (or after all died) keeps trying every second instead of failing: it becomes
    /// ready once a silo is there. Once connected, the Orleans client itself fails over between silos.
    /// </summary>
    private sealed partial class WaitForSilos(ILogger<WaitForSilos> logger) : IClientConnectionRetryFilter
    {
        public async Task<bool> ShouldRetryConnectionAttempt(Exception exception, CancellationToken cancellationToken)
        {
            LogWaiting(logger, exception.GetType().Name);
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
            return !cancellationToken.IsCancellationRequested;
        }

        [LoggerMessage(EventId = 4101, Level = LogLevel.Warning, Message = "No silo of the cluster answered ({ErrorType}); trying again")]
        private static partial void LogWaiting(ILogger logger, string errorType);
    }
}
