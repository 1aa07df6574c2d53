using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using OrleansVault.Client;
using OrleansVault.Gateway.Native;
using OrleansVault.Protocol;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>Restoring objects after a reconnect: side by side, and a permanent refusal is reported instead of retried.</summary>
public sealed class NativeRestoreTests
{
    private const string AdminToken = "native-restore-admin-token-0123456789abcdef";
    private const string UserIdSecret = "restore-tests-user-id-secret-0123456789";

    private static string Sign(string secret, string userId) =>
        Convert.ToHexString(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(userId))).ToLowerInvariant();

    private static async Task PutClassAsync(KestrelGateway gateway, string className, object policy)
    {
        using var admin = new HttpClient { BaseAddress = gateway.BaseUrl };
        admin.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", AdminToken);
        using var response = await admin.PutAsJsonAsync($"/admin/projects/{GatewayFactory.ProjectId}/classes/{className}", policy);
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
    }

    [Fact]
    public async Task A_permanent_refusal_is_reported_once_and_holds_up_neither_the_other_objects_nor_the_reconnect()
    {
        using var signer = ObjectIdSigner.Create();
        using var successor = ObjectIdSigner.Create();
        await using var gateway = KestrelGateway.Start(new Dictionary<string, string?>
        {
            ["Vault:Admin:Token"] = AdminToken,
            ["Vault:Bootstrap:Classes:signed:RequireIdSignature"] = "true",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:Version"] = "1",
            ["Vault:Bootstrap:Classes:signed:IdSignatureKeys:0:PublicKey"] = signer.ExportPublicKeyPem(),
            ["Vault:Bootstrap:Classes:verified:IdentityMode"] = "UserIdSignature",
            ["Vault:Bootstrap:Classes:verified:UserIdSecret"] = UserIdSecret,
        });
        gateway.Factory.ForbiddenInLogs.Add(AdminToken);
        await using var vault = await gateway.ConnectAsync(reconnectDelays: [TimeSpan.Zero]);
        var id = "restore-" + Guid.NewGuid().ToString("N");
        var signed = await vault.OpenAsync("signed", id, new OpenOptions { IdSignature = signer.Sign(id), IdSignatureKeyVersion = 1 });
        var verified = await vault.OpenAsync("verified", id);
        var plain = await vault.OpenAsync("plain", id);
        await verified.JoinAsync(new { userId = "u1" }, new UserProof(UserIdSignature: Sign(UserIdSecret, "u1")));
        var failures = new ConcurrentQueue<(string Class, string Code)>();
        signed.RestoreFailed += (_, error) => failures.Enqueue(("signed", error.Code));
        verified.RestoreFailed += (_, error) => failures.Enqueue(("verified", error.Code));
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vault.Reconnected += () => reconnected.TrySetResult();

        // While the client is connected, the signature it opened with is revoked and the user-id secret changes.
        await PutClassAsync(gateway, "signed", new
        {
            requireIdSignature = true,
            idSignatureKeys = new object[]
            {
                new { version = 1, publicKey = signer.ExportPublicKeyPem(), revoked = true },
                new { version = 2, publicKey = successor.ExportPublicKeyPem() },
            },
        });
        await PutClassAsync(gateway, "verified", new { identityMode = "UserIdSignature", userIdSecret = UserIdSecret + "-rotated" });
        gateway.Factory.Services.GetRequiredService<NativeLifetimeManager>().DisconnectAll("serviceError.unavailable.retry", "test drop");

        await reconnected.Task.WaitAsync(Wait.Deadline);
        var plainLog = new EventLog(plain);
        var verifiedLog = new EventLog(verified);
        await gateway.WriteOverHttpAsync("plain", id, "after", 1);
        await gateway.WriteOverHttpAsync("verified", id, "after", 1);
        await plainLog.WaitForAsync(e => e.Key == "after", "the plain object's event after the reconnect");
        await verifiedLog.WaitForAsync(e => e.Key == "after", "the event of the object that could not rejoin presence");

        Assert.Equal(["signed", "verified"], failures.Select(f => f.Class).Order());
        Assert.StartsWith("authorizationError.idSignature.", failures.Single(f => f.Class == "signed").Code, StringComparison.Ordinal);
        Assert.StartsWith("authorizationError.identity.", failures.Single(f => f.Class == "verified").Code, StringComparison.Ordinal);
        await Assert.ThrowsAsync<ObjectDisposedException>(() => signed.GetKeysAsync());
        Assert.Empty(await verified.GetMembersAsync());
        Assert.NotSame(signed, await vault.OpenAsync("signed", id, new OpenOptions { IdSignature = successor.Sign(id), IdSignatureKeyVersion = 2 }));
    }

    [Fact]
    public async Task Opening_an_object_while_the_client_reconnects_fails_at_once_and_leaves_nothing_to_restore()
    {
        await using var gateway = KestrelGateway.Start();
        var tokens = new TokenGate(gateway);
        await using var vault = await gateway.ConnectAsync(tokens);
        var id = "reopen-" + Guid.NewGuid().ToString("N");
        var during = id + "-during";
        var before = await vault.OpenAsync("plain", id);
        var reconnecting = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var reconnected = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        vault.Reconnecting += _ => reconnecting.TrySetResult();
        vault.Reconnected += () => reconnected.TrySetResult();

        // The connection drops and the reconnect waits for a token the test holds back.
        tokens.Shut();
        gateway.Factory.Services.GetRequiredService<NativeLifetimeManager>().DisconnectAll("serviceError.unavailable.retry", "test drop");
        await reconnecting.Task.WaitAsync(Wait.Deadline);

        // An open now fails with connection.down, without waiting for the reconnect.
        var error = await Assert.ThrowsAsync<VaultClientException>(() => vault.OpenAsync("plain", during).WaitAsync(Wait.Deadline));
        Assert.Equal(ClientErrorCodes.Disconnected, error.Code);
        Assert.False(reconnected.Task.IsCompleted);

        tokens.Open();
        await reconnected.Task.WaitAsync(Wait.Deadline);

        // The failed open left nothing behind: the object opens now and gets its events, as does the one opened before.
        var after = await vault.OpenAsync("plain", during);
        var afterLog = new EventLog(after);
        var beforeLog = new EventLog(before);
        await gateway.WriteOverHttpAsync("plain", during, "k", 1);
        await gateway.WriteOverHttpAsync("plain", id, "k", 2);
        await afterLog.WaitForAsync(e => e.Key == "k", "the event of the object opened after the reconnect");
        await beforeLog.WaitForAsync(e => e.Key == "k", "the event of the object restored by the reconnect");
        Assert.Equal(["k"], await after.GetKeysAsync());
    }
}
