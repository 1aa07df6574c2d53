using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using OrleansVault.Client;
using OrleansVault.Protocol;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>The hub's doors: tokens and origins checked before SignalR accepts anything, id signatures per object, disabled keys shut out.</summary>
public sealed class NativeAuthTests
{
    private const string AdminToken = "native-admin-token-0123456789abcdef-xyz";

    private static async Task<(HttpStatusCode Status, string? Code)> HubRequestAsync(KestrelGateway gateway, string query, string? authorization = null, string? origin = null)
    {
        using var http = new HttpClient { BaseAddress = gateway.BaseUrl };
        using var request = new HttpRequestMessage(HttpMethod.Post, $"{NativeProtocol.HubPath}/negotiate?negotiateVersion=1&{query}");
        if (authorization is not null)
        {
            request.Headers.Authorization = AuthenticationHeaderValue.Parse(authorization);
        }

        if (origin is not null)
        {
            request.Headers.Add("Origin", origin);
        }

        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        if (response.IsSuccessStatusCode)
        {
            return (response.StatusCode, null);
        }

        using var json = JsonDocument.Parse(body);
        return (response.StatusCode, json.RootElement.GetProperty("cause").GetProperty("code").GetString());
    }

    [Fact]
    public async Task Requests_without_a_valid_token_for_an_allowed_origin_are_refused_before_the_hub()
    {
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:AllowedOrigins"] = "https://app.example.com",
            ["Vault:Bootstrap:AllowNonBrowser"] = "true",
        });
        var project = $"{NativeProtocol.ProjectParameter}={GatewayFactory.ProjectId}";
        var token = await gateway.TokenAsync("https://app.example.com");

        Assert.Equal((HttpStatusCode.BadRequest, "validationError.projectId.invalid"), await HubRequestAsync(gateway, "x=1", "Bearer " + token));
        Assert.Equal((HttpStatusCode.Unauthorized, "authenticationError.credentials.missing"), await HubRequestAsync(gateway, project));
        Assert.Equal((HttpStatusCode.Unauthorized, "authenticationError.credentials.invalid"), await HubRequestAsync(gateway, project, gateway.Factory.BasicHeader));
        Assert.Equal((HttpStatusCode.Unauthorized, "authenticationError.token.invalid"), await HubRequestAsync(gateway, project, "Bearer not.a.token"));
        Assert.Equal((HttpStatusCode.Forbidden, "authorizationError.origin.notAllowed"), await HubRequestAsync(gateway, project, "Bearer " + token, "https://evil.example.net"));
        Assert.Equal((HttpStatusCode.Unauthorized, "authenticationError.token.invalid"), await HubRequestAsync(gateway, $"{NativeProtocol.ProjectParameter}=other", "Bearer " + token));
        Assert.Equal((HttpStatusCode.OK, null), await HubRequestAsync(gateway, project, "Bearer " + token, "https://app.example.com"));

        // The token also rides in the query on WebSockets (never logged: GatewayFactory checks every log line for tokens).
        Assert.Equal((HttpStatusCode.OK, null), await HubRequestAsync(gateway, project + "&access_token=" + Uri.EscapeDataString(token)));

        var refused = await Assert.ThrowsAsync<VaultClientException>(() => VaultClient.ConnectAsync(new VaultClientOptions
        {
            BaseUrl = gateway.BaseUrl,
            ProjectId = GatewayFactory.ProjectId,
            AccessTokenProvider = _ => Task.FromResult("not.a.token"),
        }));
        Assert.Equal(ClientErrorCodes.Disconnected, refused.Code);
    }

    [Fact]
    public async Task Classes_that_require_id_signatures_refuse_to_open_without_a_valid_one()
    {
        using var signer = ObjectIdSigner.Create();
        using var stranger = ObjectIdSigner.Create();
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Bootstrap:Classes:signed:RequireIdSignature"] = "true",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:Version"] = "1",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:PublicKey"] = signer.ExportPublicKeyPem(),
        });
        await using var vault = await gateway.ConnectAsync();

        var missing = await Assert.ThrowsAsync<VaultClientException>(() => vault.OpenAsync("signed", "doc-1"));
        Assert.Equal("authorizationError.idSignature.missing", missing.Code);
        var forged = await Assert.ThrowsAsync<VaultClientException>(() => vault.OpenAsync("signed", "doc-1", new OpenOptions { IdSignature = stranger.Sign("doc-1") }));
        Assert.Equal("authorizationError.idSignature.invalid", forged.Code);
        var reused = await Assert.ThrowsAsync<VaultClientException>(() => vault.OpenAsync("signed", "doc-2", new OpenOptions { IdSignature = signer.Sign("doc-1") }));
        Assert.Equal("authorizationError.idSignature.invalid", reused.Code);

        var doc = await vault.OpenAsync("signed", "doc-1", new OpenOptions { IdSignature = signer.Sign("doc-1"), IdSignatureKeyVersion = 1 });
        await doc.SetAsync("title", "ok");
        Assert.Equal("ok", await doc.GetValueAsync<string>("title"));
    }

    [Fact]
    public async Task Disabling_a_key_closes_its_hub_connections_for_good()
    {
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Admin:Token"] = AdminToken,
            ["Vault:Auth:ProjectCacheTtl"] = "00:00:00.200",
        });
        gateway.Factory.ForbiddenInLogs.Add(AdminToken);
        await using var vault = await gateway.ConnectAsync();
        await vault.OpenAsync("keys", "k1");
        Exception? closedWith = null;
        var closed = new TaskCompletionSource();
        vault.Closed += error =>
        {
            closedWith = error;
            closed.TrySetResult();
        };

        using var admin = new HttpClient { BaseAddress = gateway.BaseUrl };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await admin.PostAsync($"/admin/projects/{GatewayFactory.ProjectId}/keys/{GatewayFactory.ApiKey}/disable", null);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);

        await closed.Task.WaitAsync(Wait.Deadline);
        Assert.Contains("authorizationError.key.disabled", closedWith?.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_expired_token_closes_the_connection_with_its_code_and_the_client_comes_back_with_a_fresh_one()
    {
        var clock = new ShiftedClock();
        await using var gateway = KestrelGateway.Start(clock: clock);
        var stale = await gateway.TokenAsync();
        clock.Advance(TimeSpan.FromHours(1) - TimeSpan.FromSeconds(2));
        var issued = 0;
        await using var vault = await VaultClient.ConnectAsync(new VaultClientOptions
        {
            BaseUrl = gateway.BaseUrl,
            ProjectId = GatewayFactory.ProjectId,
            ReconnectDelays = [TimeSpan.Zero],
            AccessTokenProvider = async _ => Interlocked.Increment(ref issued) == 1 ? stale : await gateway.TokenAsync(),
        });
        var dropped = new TaskCompletionSource<Exception?>(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vault.Reconnecting += error => dropped.TrySetResult(error);
        vault.Reconnected += () => reconnected.TrySetResult();
        var id = "expiry-" + Guid.NewGuid().ToString("N");
        var room = await vault.OpenAsync("expiry", id);
        var log = new EventLog(room);

        // The first token expires two seconds after the connection opened: the gateway closes it, saying why.
        Assert.Contains("authenticationError.token.expired", (await dropped.Task.WaitAsync(Wait.Deadline))?.Message, StringComparison.Ordinal);
        await reconnected.Task.WaitAsync(Wait.Deadline);
        Assert.True(Volatile.Read(ref issued) >= 2);
        await gateway.WriteOverHttpAsync("expiry", id, "after", 1);
        await log.WaitForAsync(e => e.Key == "after", "an event after the reconnect with a fresh token");
    }
}
