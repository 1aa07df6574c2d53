using Microsoft.Extensions.DependencyInjection;
using Orleans.TestingHost;
using OrleansVault.Grains.Objects;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Grains;

/// <summary>An in-process Orleans test cluster running the grains with memory storage and memory streams.</summary>
public sealed class GrainClusterFixture : IAsyncLifetime
{
    public InProcessTestCluster Cluster { get; private set; } = null!;

    public IClusterClient Client => Cluster.Client;

    public async Task InitializeAsync()
    {
        var builder = new InProcessTestClusterBuilder(1);
        builder.ConfigureSilo((_, silo) =>
        {
            silo.AddMemoryGrainStorage(SharedObjectOptions.StorageName);
            silo.AddMemoryGrainStorage("PubSubStore");
            silo.AddMemoryStreams(VaultStreams.ProviderName);
            silo.Services.AddSingleton(TimeProvider.System);
            silo.Services.Configure<SharedObjectOptions>(o =>
            {
                o.HistoryLength = 50;
                o.ResumeWindow = TimeSpan.FromMilliseconds(400);
                o.PurgeInterval = TimeSpan.FromMilliseconds(200);
            });
        });
        builder.ConfigureClient(client => client.AddMemoryStreams(VaultStreams.ProviderName));
        Cluster = builder.Build();
        await Cluster.DeployAsync();
    }

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class GrainClusterCollection : ICollectionFixture<GrainClusterFixture>
{
    public const string Name = "grain-cluster";
}
