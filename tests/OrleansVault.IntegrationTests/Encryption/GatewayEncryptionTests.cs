using System.Net;
using System.Text;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Runtime;
using OrleansVault.Hosting.Admin;

namespace OrleansVault.IntegrationTests.Encryption;

/// <summary>At-rest encryption through the real gateway, and the admin commands run beside a live node.</summary>
public sealed class GatewayEncryptionTests
{
    private const string Project = GatewayFactory.ProjectId;

    private static async Task<string> AdminAsync(GatewayFactory factory, params string[] args)
    {
        var configuration = new ConfigurationBuilder()
            .AddInMemoryCollection(new Dictionary<string, string?> { ["Vault:DataDirectory"] = factory.DataDirectory })
            .Build();
        using var output = new StringWriter();
        var code = await VaultAdminCommand.RunAsync(args, configuration, output);
        Assert.True(code == 0, $"admin {string.Join(' ', args)} exited {code}: {output}");
        return output.ToString();
    }

    [Fact]
    public async Task Nothing_a_client_stored_appears_in_the_database_files_and_keys_rotate_under_a_running_gateway()
    {
        var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Encryption:KeyCacheRefresh"] = "00:00:00.200" });
        var disposed = false;
        try
        {
            var id = "enc-" + Guid.NewGuid().ToString("N");
            using var client = factory.Client(factory.BasicHeader);
            var root = $"/project/{Project}";
            await HttpApiTests.JsonAsync(await HttpApiTests.PostAsync(client, $"{root}/cache/c/{id}/zebra-key-name", "{\"value\":\"giraffe-value-text\"}"));
            using (var socket = await factory.ConnectAsync("c", id, factory.BasicHeader))
            {
                var frames = new FrameReader(socket);
                await frames.NextAsync();
                await frames.SendAsync(new { @event = "presence:join", payload = new { who = "okapi-presence-data" } });
                await frames.NextEventAsync("presence:join");
                Assert.True((await HttpApiTests.PostAsync(client, $"{root}/message/c/{id}", "{\"message\":\"narwhal-message-text\"}")).IsSuccessStatusCode);
                await frames.NextEventAsync("message");
            }

            Assert.Contains($"rows {Project} v1", await AdminAsync(factory, "status"), StringComparison.Ordinal);

            // Rotation reaches the running gateway within the cache refresh: its writes move to v2.
            Assert.Contains("is now v2", await AdminAsync(factory, "rotate-data-key", "--project", Project), StringComparison.Ordinal);
            var n = 0;
            await Wait.UntilAsync(
                async () =>
                {
                    await HttpApiTests.PostAsync(client, $"{root}/cache/c/{id}-probe/k", $"{{\"value\":{n++}}}");
                    return (await AdminAsync(factory, "status")).Contains($"rows {Project} v2", StringComparison.Ordinal);
                },
                "writes under the rotated key");

            await AdminAsync(factory, "reencrypt", "--project", Project);
            var status = await AdminAsync(factory, "status");
            Assert.DoesNotContain($"rows {Project} v1", status, StringComparison.Ordinal);

            // Re-encrypted rows read back after the objects reload them from storage.
            await factory.Services.GetRequiredService<IClusterClient>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.FromMilliseconds(1));
            using (var item = await HttpApiTests.JsonAsync(await client.GetAsync($"{root}/cache/c/{id}/zebra-key-name")))
            {
                Assert.Equal("giraffe-value-text", item.RootElement.GetProperty("value").GetString());
            }

            // Stopping seals every object (history included), then the raw files are searched.
            await factory.DisposeAsync();
            disposed = true;
            SqliteConnection.ClearAllPools();
            foreach (var file in Directory.GetFiles(factory.DataDirectory, "vault.db*"))
            {
                var bytes = Encoding.UTF8.GetString(await File.ReadAllBytesAsync(file));
                foreach (var marker in new[] { "zebra-key-name", "giraffe-value-text", "okapi-presence-data", "narwhal-message-text", GatewayFactory.Secret })
                {
                    Assert.DoesNotContain(marker, bytes, StringComparison.Ordinal);
                }
            }

            // Crypto-shredding: the project's keys go, and with them every row.
            var deleted = await AdminAsync(factory, "delete-project", "--project", Project, "--yes");
            Assert.Contains("destroyed the data keys", deleted, StringComparison.Ordinal);
            var after = await AdminAsync(factory, "status");
            Assert.DoesNotContain($"data key {Project} ", after, StringComparison.Ordinal);
            Assert.DoesNotContain($"rows {Project} ", after, StringComparison.Ordinal);
        }
        finally
        {
            if (!disposed)
            {
                await factory.DisposeAsync();
            }

            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Delete_project_needs_confirmation_and_a_real_project_id()
    {
        await using var factory = new GatewayFactory();
        try
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Vault:DataDirectory"] = factory.DataDirectory }).Build();
            using var output = new StringWriter();
            Assert.Equal(1, await VaultAdminCommand.RunAsync(["delete-project", "--project", Project], configuration, output));
            Assert.Equal(1, await VaultAdminCommand.RunAsync(["delete-project", "--project", "~cluster", "--yes"], configuration, output));
            Assert.Equal(2, await VaultAdminCommand.RunAsync(["no-such-verb"], configuration, output));
            using var client = factory.Client(factory.BasicHeader);
            Assert.Equal(HttpStatusCode.NotFound, (await client.GetAsync($"/project/{Project}/cache/c/x/k")).StatusCode);
        }
        finally
        {
            factory.DeleteData();
        }
    }
}
