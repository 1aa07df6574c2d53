using Microsoft.Data.Sqlite;
using Orleans.Storage;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;

namespace OrleansVault.IntegrationTests.Persistence;

public sealed class SqliteGrainStorageTests : GrainStorageConformance, IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ov-sqlite-" + Guid.NewGuid().ToString("N"));
    private readonly Microsoft.Extensions.DependencyInjection.ServiceProvider _services = TestStorage.Serializers();
    private readonly MasterKeyRing _masters = new(new MasterKey(System.Security.Cryptography.RandomNumberGenerator.GetBytes(32)), []);

    protected override IGrainStorage NewStorage() =>
        TestStorage.Open(_services, new SqliteStorageOptions { DataDirectory = _directory, Synchronous = "FULL" }, _masters).Storage;

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }
}
