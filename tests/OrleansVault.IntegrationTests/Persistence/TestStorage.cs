using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Serialization;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;

namespace OrleansVault.IntegrationTests.Persistence;

/// <summary>The embedded storage as a silo builds it (encrypted SQLite), for storage-level tests.</summary>
internal static class TestStorage
{
    public static ServiceProvider Serializers() =>
        new ServiceCollection().AddSerializer(s => s.AddAssembly(typeof(SharedObjectState).Assembly)).BuildServiceProvider();

    public static (SqliteGrainStorage Storage, DataKeyStore Keys) Open(IServiceProvider serializers, SqliteStorageOptions options, MasterKeyRing masters)
    {
        var keys = new DataKeyStore(options.ConnectionString, masters, TimeSpan.FromSeconds(30), TimeProvider.System);
        var storage = new SqliteGrainStorage("VaultStore", options, serializers.GetRequiredService<Serializer>(), new StateProtector(keys), NullLogger<SqliteGrainStorage>.Instance);
        return (storage, keys);
    }
}
