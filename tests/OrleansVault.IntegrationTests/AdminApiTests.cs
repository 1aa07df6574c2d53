using System.Net;
using System.Net.Http.Headers;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.Data.Sqlite;

namespace OrleansVault.IntegrationTests;

public sealed class AdminApiTests
{
    private const string AdminToken = "admin-token-for-tests-0123456789abcdef";
    private const string Project = GatewayFactory.ProjectId;

    private static HttpClient Admin(GatewayFactory factory, string token = AdminToken)
    {
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return client;
    }

    private static async Task<string> CodeOf(HttpResponseMessage response)
    {
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("cause").GetProperty("code").GetString()!;
    }

    [Fact]
    public async Task Without_a_configured_token_the_admin_api_is_off()
    {
        await using var factory = new GatewayFactory();
        try
        {
            using var client = Admin(factory);
            var response = await client.GetAsync($"/admin/projects/{Project}/keys");
            Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
            Assert.Equal("notFoundError.admin.disabled", await CodeOf(response));
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task Secrets_rotate_without_downtime_and_a_disabled_key_is_shut_out_everywhere_including_open_sockets()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["Vault:Admin:Token"] = AdminToken,
            ["Vault:Auth:ProjectCacheTtl"] = "00:00:00.200",
        });
        factory.ForbiddenInLogs.Add(AdminToken);
        try
        {
            using var admin = Admin(factory);
            var keyPath = $"/admin/projects/{Project}/keys/{GatewayFactory.ApiKey}";
            using (var wrong = Admin(factory, "not-the-admin-token"))
            {
                var refused = await wrong.GetAsync($"/admin/projects/{Project}/keys");
                Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
                Assert.Equal("authenticationError.admin.invalid", await CodeOf(refused));
            }

            // A second secret works at once, beside the first.
            var added = await admin.PostAsync($"{keyPath}/secrets", null);
            Assert.Equal(HttpStatusCode.OK, added.StatusCode);
            using var addedBody = JsonDocument.Parse(await added.Content.ReadAsStringAsync());
            var newSecret = addedBody.RootElement.GetProperty("secret").GetString()!;
            factory.ForbiddenInLogs.Add(newSecret);
            var newSecretId = addedBody.RootElement.GetProperty("secretId").GetString()!;
            var item = $"/project/{Project}/cache/c/admin-{Guid.NewGuid():N}/k";
            using (var withNew = factory.Client(GatewayFactory.BasicFor(GatewayFactory.ApiKey, newSecret)))
            using (var withOld = factory.Client(factory.BasicHeader))
            {
                Assert.Equal(HttpStatusCode.NotFound, (await withNew.GetAsync(item)).StatusCode);
                Assert.Equal(HttpStatusCode.NotFound, (await withOld.GetAsync(item)).StatusCode);
            }

            var listed = await admin.GetStringAsync($"/admin/projects/{Project}/keys");
            Assert.Contains(newSecretId, listed, StringComparison.Ordinal);
            Assert.DoesNotContain(newSecret, listed, StringComparison.Ordinal);

            // Retire the original: the new one is now the only one, and it cannot be removed.
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{keyPath}/secrets/primary")).StatusCode);
            using (var withOld = factory.Client(factory.BasicHeader))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await withOld.GetAsync(item)).StatusCode);
            }

            var last = await admin.DeleteAsync($"{keyPath}/secrets/primary");
            Assert.Equal(HttpStatusCode.Conflict, last.StatusCode);
            Assert.Equal("conflictError.secret.limit", await CodeOf(last));
            var basic = GatewayFactory.BasicFor(GatewayFactory.ApiKey, newSecret);

            // Disable: an open socket closes with 4003, a token, Basic and new handshakes are refused.
            string token;
            using (var minting = factory.Client(basic))
            {
                token = await minting.GetStringAsync($"/project/{Project}/auth/token");
            }

            using var socket = await factory.ConnectAsync("c", "admin-socket", "Bearer " + token);
            var frames = new FrameReader(socket);
            await frames.NextAsync();
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"{keyPath}/disable", null)).StatusCode);
            Assert.Equal((WebSocketCloseStatus)4003, await frames.ClosedAsync());
            Assert.Equal("key disabled", socket.CloseStatusDescription);
            using (var bearer = factory.Client("Bearer " + token))
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await bearer.GetAsync(item)).StatusCode);
            }

            using (var withBasic = factory.Client(basic))
            {
                Assert.Equal(HttpStatusCode.Forbidden, (await withBasic.GetAsync($"/project/{Project}/auth/token")).StatusCode);
            }

            var handshake = await Assert.ThrowsAnyAsync<Exception>(() => factory.ConnectAsync("c", "admin-socket", basic));
            Assert.Contains("403", handshake.Message, StringComparison.Ordinal);

            Assert.Equal(HttpStatusCode.NoContent, (await admin.PostAsync($"{keyPath}/enable", null)).StatusCode);
            using (var withBasic = factory.Client(basic))
            {
                Assert.Equal(HttpStatusCode.NotFound, (await withBasic.GetAsync(item)).StatusCode);
            }

            // Everything above is in the audit log, with no secret or token in it.
            var audit = await admin.GetStringAsync($"/admin/projects/{Project}/audit?since=0&limit=1000");
            foreach (var action in new[] { "\"token.mint\"", "\"key.secret.add\"", "\"key.secret.remove\"", "\"key.disable\"", "\"key.enable\"", "\"admin.request\"", "\"key.upsert\"" })
            {
                Assert.Contains(action, audit, StringComparison.Ordinal);
            }

            Assert.Contains("\"refused\"", audit, StringComparison.Ordinal);
            Assert.Contains("authorizationError.key.disabled", audit, StringComparison.Ordinal);
            Assert.DoesNotContain(newSecret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(GatewayFactory.Secret, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(token, audit, StringComparison.Ordinal);
            Assert.DoesNotContain(AdminToken, audit, StringComparison.Ordinal);
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task A_secret_retired_through_the_admin_api_stays_retired_when_the_configuration_still_names_it()
    {
        var settings = new Dictionary<string, string?> { ["Vault:Admin:Token"] = AdminToken };
        var first = new GatewayFactory(settings: settings);
        string newSecret;
        try
        {
            using var admin = Admin(first);
            var keyPath = $"/admin/projects/{Project}/keys/{GatewayFactory.ApiKey}";
            using var added = JsonDocument.Parse(await (await admin.PostAsync($"{keyPath}/secrets", null)).Content.ReadAsStringAsync());
            newSecret = added.RootElement.GetProperty("secret").GetString()!;
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"{keyPath}/secrets/primary")).StatusCode);
        }
        finally
        {
            await first.DisposeAsync();
        }

        // Same data, same bootstrap configuration (which still holds the retired secret).
        await using var second = new GatewayFactory(first.DataDirectory, settings: settings);
        try
        {
            var item = $"/project/{Project}/cache/c/retired/k";
            using (var retired = second.Client(second.BasicHeader))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await retired.GetAsync(item)).StatusCode);
            }

            using (var current = second.Client(GatewayFactory.BasicFor(GatewayFactory.ApiKey, newSecret)))
            {
                Assert.Equal(HttpStatusCode.NotFound, (await current.GetAsync(item)).StatusCode);
            }

            using var admin = Admin(second);
            Assert.Contains("retired through the admin API", await admin.GetStringAsync($"/admin/projects/{Project}/audit?limit=1000"), StringComparison.Ordinal);
        }
        finally
        {
            second.DeleteData();
        }
    }

    [Fact]
    public async Task Keys_and_class_policies_of_any_project_are_managed_at_runtime()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Admin:Token"] = AdminToken });
        factory.ForbiddenInLogs.Add(AdminToken);
        try
        {
            using var admin = Admin(factory);
            var project = "p2-" + Guid.NewGuid().ToString("N")[..8];
            var body = new StringContent("{\"allowedOrigins\":[\"https://app.example.com\",\"https://*.example.org\"],\"allowNonBrowser\":true}", System.Text.Encoding.UTF8, "application/json");
            var created = await admin.PutAsync($"/admin/projects/{project}/keys/backend", body);
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
            using var createdBody = JsonDocument.Parse(await created.Content.ReadAsStringAsync());
            var secret = createdBody.RootElement.GetProperty("secret").GetString()!;
            factory.ForbiddenInLogs.Add(secret);

            // The new project works at once with its new key.
            var basic = GatewayFactory.BasicFor("backend", secret);
            using (var client = factory.Client(basic))
            {
                Assert.Equal(HttpStatusCode.OK, (await HttpApiTests.PostAsync(client, $"/project/{project}/cache/notes/o/k", "{\"value\":1}")).StatusCode);
            }

            // A key's own limits: one socket at a time.
            Assert.Equal(HttpStatusCode.OK, (await admin.PutAsync($"/admin/projects/{project}/keys/backend", new StringContent("{\"allowNonBrowser\":true,\"maxConnections\":1,\"messagesPerSecond\":50}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
            using (var first = await factory.ConnectAsync("notes", "o", basic, projectId: project))
            {
                await new FrameReader(first).NextAsync();
                using var second = await factory.ConnectAsync("notes", "o", basic, projectId: project);
                Assert.Equal((WebSocketCloseStatus)4029, await new FrameReader(second).ClosedAsync());
                Assert.Contains("more than 1 connections", second.CloseStatusDescription, StringComparison.Ordinal);
            }

            var bad = await admin.PutAsync($"/admin/projects/{project}/keys/other", new StringContent("{\"allowedOrigins\":[\"javascript:alert(1)\"]}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);

            // A class policy set at runtime applies to objects that activate after it.
            Assert.Equal(HttpStatusCode.NoContent, (await admin.PutAsync($"/admin/projects/{project}/classes/sealed", new StringContent("{\"requireEndToEndEncryption\":true}", System.Text.Encoding.UTF8, "application/json"))).StatusCode);
            var invalid = await admin.PutAsync($"/admin/projects/{project}/classes/broken", new StringContent("{\"identityMode\":\"UserIdSignature\",\"userIdSecret\":\"short\"}", System.Text.Encoding.UTF8, "application/json"));
            Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
            Assert.Contains("identity", await invalid.Content.ReadAsStringAsync(), StringComparison.Ordinal);
            using (var client = factory.Client(basic))
            {
                var plain = await HttpApiTests.PostAsync(client, $"/project/{project}/cache/sealed/fresh/k", "{\"value\":\"plain\"}");
                Assert.Equal(HttpStatusCode.BadRequest, plain.StatusCode);
                Assert.Equal("encryptionError.required", await CodeOf(plain));
            }

            Assert.Contains("\"requireEndToEndEncryption\":true", await admin.GetStringAsync($"/admin/projects/{project}/classes"), StringComparison.Ordinal);

            // Deleting the key shuts it out.
            Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/admin/projects/{project}/keys/backend")).StatusCode);
            using (var client = factory.Client(basic))
            {
                Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync($"/project/{project}/cache/notes/o/k")).StatusCode);
            }

            var audit = await admin.GetStringAsync($"/admin/projects/{project}/audit?limit=1000");
            foreach (var action in new[] { "\"key.create\"", "\"class.upsert\"", "\"key.delete\"" })
            {
                Assert.Contains(action, audit, StringComparison.Ordinal);
            }
        }
        finally
        {
            factory.DeleteData();
        }
    }

    [Fact]
    public async Task The_audit_table_refuses_updates_and_deletes()
    {
        await using var factory = new GatewayFactory(settings: new Dictionary<string, string?> { ["Vault:Admin:Token"] = AdminToken });
        try
        {
            using var admin = Admin(factory);
            Assert.Contains("key.upsert", await admin.GetStringAsync($"/admin/projects/{Project}/audit"), StringComparison.Ordinal);
            using var connection = new SqliteConnection($"Data Source={Path.Combine(factory.DataDirectory, "vault.db")}");
            connection.Open();
            foreach (var sql in new[] { "UPDATE audit_log SET outcome = 'ok'", "DELETE FROM audit_log" })
            {
                using var command = connection.CreateCommand();
                command.CommandText = sql;
                var error = Assert.Throws<SqliteException>(() => command.ExecuteNonQuery());
                Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            factory.DeleteData();
        }
    }
}
