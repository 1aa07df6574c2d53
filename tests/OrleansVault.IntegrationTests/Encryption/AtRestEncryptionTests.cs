using System.Security.Cryptography;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Runtime;
using Orleans.Storage;
using OrleansVault.Grains.Objects;
using OrleansVault.Hosting.Encryption;
using OrleansVault.Hosting.Persistence;
using OrleansVault.IntegrationTests.Persistence;
using OrleansVault.Objects;

namespace OrleansVault.IntegrationTests.Encryption;

/// <summary>Storage-level attacks on at-rest encryption: tampering, moving rows, wrong keys, rotation, shredding.</summary>
public sealed class AtRestEncryptionTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "ov-enc-" + Guid.NewGuid().ToString("N"));
    private readonly ServiceProvider _services = TestStorage.Serializers();
    private readonly MasterKey _master = new(RandomNumberGenerator.GetBytes(32));
    private readonly GrainId _a = GrainId.Create("sharedobject", "proj-a/c/one");
    private readonly GrainId _b = GrainId.Create("sharedobject", "proj-a/c/two");
    private readonly GrainId _other = GrainId.Create("sharedobject", "proj-b/c/one");

    private SqliteStorageOptions Options => new() { DataDirectory = _directory, Synchronous = "NORMAL" };

    private (SqliteGrainStorage Storage, DataKeyStore Keys) Open(MasterKey? master = null, params MasterKey[] retired) =>
        TestStorage.Open(_services, Options, new MasterKeyRing(master ?? _master, retired));

    private static GrainState<SharedObjectState> StateWith(string key, string valueJson)
    {
        var state = new GrainState<SharedObjectState>(new SharedObjectState { Sequence = 1 });
        state.State!.Items[key] = new ItemView(valueJson, 1, 1, long.MaxValue, null);
        return state;
    }

    private static async Task<string> ReadValueAsync(IGrainStorage storage, GrainId grain, string key)
    {
        var read = new GrainState<SharedObjectState>();
        await storage.ReadStateAsync("object", grain, read);
        return read.State!.Items[key].ValueJson;
    }

    private byte[] RawPayload(GrainId grain)
    {
        using var connection = new SqliteConnection(Options.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT payload FROM grain_state WHERE grain_id = $id";
        command.Parameters.AddWithValue("$id", grain.ToString());
        return (byte[])command.ExecuteScalar()!;
    }

    private void SetRawPayload(GrainId grain, byte[] payload)
    {
        using var connection = new SqliteConnection(Options.ConnectionString);
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "UPDATE grain_state SET payload = $payload WHERE grain_id = $id";
        command.Parameters.AddWithValue("$id", grain.ToString());
        command.Parameters.AddWithValue("$payload", payload);
        Assert.Equal(1, command.ExecuteNonQuery());
    }

    [Fact]
    public async Task A_row_holds_neither_its_value_nor_its_key_name_in_plaintext()
    {
        var (storage, _) = Open();
        await storage.WriteStateAsync("object", _a, StateWith("secret-key-name", "\"plaintext-value-123\""));
        var raw = System.Text.Encoding.UTF8.GetString(RawPayload(_a));
        Assert.DoesNotContain("secret-key-name", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("plaintext-value-123", raw, StringComparison.Ordinal);
        Assert.Equal("\"plaintext-value-123\"", await ReadValueAsync(storage, _a, "secret-key-name"));
    }

    [Fact]
    public async Task A_row_copied_onto_another_object_or_project_or_altered_in_one_bit_fails_to_decrypt()
    {
        var (storage, _) = Open();
        await storage.WriteStateAsync("object", _a, StateWith("k", "1"));
        await storage.WriteStateAsync("object", _b, StateWith("k", "2"));
        await storage.WriteStateAsync("object", _other, StateWith("k", "3"));
        var original = RawPayload(_a);

        SetRawPayload(_b, original);
        await Assert.ThrowsAsync<CryptographicException>(() => ReadValueAsync(storage, _b, "k"));
        SetRawPayload(_other, original);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadValueAsync(storage, _other, "k"));

        for (var position = 0; position < original.Length; position += Math.Max(1, original.Length / 16))
        {
            var altered = (byte[])original.Clone();
            altered[position] ^= 0x01;
            SetRawPayload(_a, altered);
            await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadValueAsync(storage, _a, "k"));
        }

        SetRawPayload(_a, original);
        Assert.Equal("1", await ReadValueAsync(storage, _a, "k"));
    }

    [Fact]
    public async Task States_sealed_and_opened_at_once_under_one_data_key_each_read_back_as_written()
    {
        // Sealing reuses cipher contexts per data key; one used by two callers at once would garble or fail rows.
        var (storage, _) = Open();
        var grains = Enumerable.Range(0, 200).Select(i => GrainId.Create("sharedobject", "proj-a/c/many-" + i)).ToArray();
        await Task.WhenAll(grains.Select((grain, i) => Task.Run(() => storage.WriteStateAsync("object", grain, StateWith("k", i.ToString(System.Globalization.CultureInfo.InvariantCulture))))));

        for (var round = 0; round < 3; round++)
        {
            var values = await Task.WhenAll(grains.Select(grain => Task.Run(() => ReadValueAsync(storage, grain, "k"))));
            Assert.Equal(grains.Select((_, i) => i.ToString(System.Globalization.CultureInfo.InvariantCulture)), values);
        }
    }

    [Fact]
    public async Task Another_master_key_cannot_read_the_data()
    {
        var (storage, _) = Open();
        await storage.WriteStateAsync("object", _a, StateWith("k", "1"));
        var (stranger, _) = Open(new MasterKey(RandomNumberGenerator.GetBytes(32)));
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadValueAsync(stranger, _a, "k"));
    }

    [Fact]
    public async Task A_rotated_data_key_serves_new_writes_while_old_rows_stay_readable_until_reencrypted()
    {
        var (storage, keys) = Open();
        await storage.WriteStateAsync("object", _a, StateWith("k", "old"));
        Assert.Equal(1, StateProtector.VersionOf(RawPayload(_a)));

        Assert.Equal(2, (await keys.RotateAsync("proj-a")).Version);
        await storage.WriteStateAsync("object", _b, StateWith("k", "new"));
        Assert.Equal(2, StateProtector.VersionOf(RawPayload(_b)));
        Assert.Equal("old", await ReadValueAsync(storage, _a, "k"));

        Assert.Equal(1, await storage.ReencryptAsync("proj-a"));
        Assert.Equal(2, StateProtector.VersionOf(RawPayload(_a)));
        Assert.Equal("old", await ReadValueAsync(storage, _a, "k"));
        var counts = await storage.CountRowsByKeyAsync();
        Assert.Equal(2, counts[("proj-a", 2)]);
        Assert.False(counts.ContainsKey(("proj-a", 1)));

        // The row kept its ETag: an activation holding it can still write.
        var read = new GrainState<SharedObjectState>();
        await storage.ReadStateAsync("object", _a, read);
        await storage.WriteStateAsync("object", _a, read);
    }

    [Fact]
    public async Task Master_key_rotation_rewraps_data_keys_and_the_old_master_is_then_not_needed()
    {
        var (storage, _) = Open();
        await storage.WriteStateAsync("object", _a, StateWith("k", "1"));
        var next = new MasterKey(RandomNumberGenerator.GetBytes(32));

        // During the rollout nodes accept both; data keys are still wrapped by the old one.
        var (rolling, rollingKeys) = Open(next, _master);
        Assert.Equal("1", await ReadValueAsync(rolling, _a, "k"));
        Assert.True(await rollingKeys.RewrapAllAsync() >= 1);
        Assert.All(await rollingKeys.ListAsync(), k => Assert.Equal(next.Id, k.MasterId));

        var (after, _) = Open(next);
        Assert.Equal("1", await ReadValueAsync(after, _a, "k"));
        var (before, _) = Open(_master);
        await Assert.ThrowsAnyAsync<CryptographicException>(() => ReadValueAsync(before, _a, "k"));
    }

    [Fact]
    public async Task Destroying_a_projects_keys_makes_its_rows_unreadable_and_unwritable_and_leaves_others_alone()
    {
        var (storage, keys) = Open();
        await storage.WriteStateAsync("object", _a, StateWith("k", "1"));
        await storage.WriteStateAsync("object", _other, StateWith("k", "3"));
        await keys.DestroyAsync("proj-a");

        // A fresh node (no cached keys) cannot read what is left, and no new key is ever made for the project.
        var (fresh, freshKeys) = Open();
        await Assert.ThrowsAsync<DataKeyDestroyedException>(() => ReadValueAsync(fresh, _a, "k"));
        await Assert.ThrowsAsync<DataKeyDestroyedException>(() => fresh.WriteStateAsync("object", _b, StateWith("k", "2")));
        await Assert.ThrowsAsync<DataKeyDestroyedException>(() => freshKeys.RotateAsync("proj-a"));
        Assert.Equal("3", await ReadValueAsync(fresh, _other, "k"));

        Assert.Equal(1, await fresh.DeleteScopeAsync("proj-a"));
        var gone = new GrainState<SharedObjectState>();
        await fresh.ReadStateAsync("object", _a, gone);
        Assert.False(gone.RecordExists);
    }

    [Fact]
    public void The_generated_master_key_lives_beside_the_data_directory_owner_only_and_never_inside_it()
    {
        var ring = MasterKeyRing.Load(new MasterKeyOptions(), _directory, NullLogger.Instance);
        var file = MasterKeyRing.DefaultFile(_directory);
        Assert.True(File.Exists(file));
        Assert.False(file.StartsWith(Path.GetFullPath(_directory) + Path.DirectorySeparatorChar, StringComparison.Ordinal));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
        }

        // The same key on the next start.
        Assert.Equal(ring.Current.Id, MasterKeyRing.Load(new MasterKeyOptions(), _directory, NullLogger.Instance).Current.Id);

        var inside = Path.Combine(_directory, "master.key");
        var refused = Assert.Throws<InvalidOperationException>(() => MasterKeyRing.Load(new MasterKeyOptions { MasterKeyFile = inside }, _directory, NullLogger.Instance));
        Assert.Contains("outside the data directory", refused.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<InvalidOperationException>(() => MasterKeyRing.Load(new MasterKeyOptions { MasterKeyFile = _directory + ".nope.key" }, _directory, NullLogger.Instance));
        Assert.Contains("no master key", missing.Message, StringComparison.Ordinal);
        File.Delete(file);
        Assert.Throws<InvalidOperationException>(() => MasterKeyRing.Load(new MasterKeyOptions { GenerateMasterKey = false }, _directory, NullLogger.Instance));
        Assert.Throws<InvalidOperationException>(() => MasterKeyRing.Load(new MasterKeyOptions { MasterKey = "dG9vIHNob3J0" }, _directory, NullLogger.Instance));
    }

    public void Dispose()
    {
        _services.Dispose();
        SqliteConnection.ClearAllPools();
        if (Directory.Exists(_directory))
        {
            Directory.Delete(_directory, recursive: true);
        }

        File.Delete(MasterKeyRing.DefaultFile(_directory));
    }
}
