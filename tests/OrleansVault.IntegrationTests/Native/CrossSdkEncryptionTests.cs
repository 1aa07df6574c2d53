using System.Diagnostics;
using System.Text.Json;
using OrleansVault.Client;

namespace OrleansVault.IntegrationTests.Native;

/// <summary>
/// End-to-end encryption across SDKs through a real gateway: a value the .NET client writes with a passphrase reads back
/// in the unmodified @vaultrice/sdk (Node), and the reverse; the server holds only ciphertext.
/// </summary>
public sealed class CrossSdkEncryptionTests
{
    private const string Passphrase = "correct horse battery staple";

    public sealed record Secret(string Pin, int[] Codes);

    /// <summary>Runs the SDK side on object <paramref name="id"/> with the passphrase: reads <paramref name="read"/>, then writes <paramref name="write"/>.</summary>
    private static Task<JsonElement> RunSdkAsync(KestrelGateway gateway, string id, string[] read, Dictionary<string, object>? write = null) => RunSdkAsync(new
    {
        baseUrl = gateway.BaseUrl.ToString().TrimEnd('/'),
        projectId = GatewayFactory.ProjectId,
        apiKey = GatewayFactory.ApiKey,
        apiSecret = GatewayFactory.Secret,
        id,
        passphrase = Passphrase,
        read,
        write = write ?? [],
    });

    /// <summary>Runs the SDK side; the SDK must be installed (scripts/test.sh runs npm ci in tests/compat first).</summary>
    private static async Task<JsonElement> RunSdkAsync(object request)
    {
        var root = OrleansVault.UnitTests.RepositoryRoot.Path;
        var script = Path.Combine(root, "tests", "compat", "lib", "sdk-e2ee-peer.mjs");
        Assert.True(Directory.Exists(Path.Combine(root, "tests", "compat", "node_modules", "@vaultrice", "sdk")), "run npm ci in tests/compat: the cross-SDK test needs the real @vaultrice/sdk");
        var start = new ProcessStartInfo("node", [script]) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        using var node = Process.Start(start)!;
        await node.StandardInput.WriteAsync(JsonSerializer.Serialize(request));
        node.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = node.StandardOutput.ReadToEndAsync(timeout.Token);
        var errors = node.StandardError.ReadToEndAsync(timeout.Token);
        await node.WaitForExitAsync(timeout.Token);
        Assert.True(node.ExitCode == 0, "the SDK side failed: " + await errors + await output);
        using var document = JsonDocument.Parse((await output).Trim().Split('\n')[^1]);
        return document.RootElement.Clone();
    }

    [Fact]
    public async Task A_value_written_with_a_passphrase_in_dotnet_reads_back_in_the_js_sdk_and_the_reverse()
    {
        await using var gateway = KestrelGateway.Start();
        var id = "x" + Guid.NewGuid().ToString("N");
        await using var vault = await gateway.ConnectAsync();
        var shared = await vault.OpenAsync("_undefined_", id, new OpenOptions { Passphrase = Passphrase });
        Assert.True(shared.IsEncrypted);
        await shared.SetAsync("fromDotnet", new Secret("tiger-plain-1234", [4, 2]));

        var answer = await RunSdkAsync(gateway, id, ["fromDotnet"], new Dictionary<string, object> { ["fromJs"] = new { pin = "lion-plain-5678", codes = new[] { 7 } } });
        var readByJs = answer.GetProperty("read").GetProperty("fromDotnet");
        Assert.Equal("tiger-plain-1234", readByJs.GetProperty("pin").GetString());
        Assert.Equal([4, 2], readByJs.GetProperty("codes").EnumerateArray().Select(e => e.GetInt32()));

        var readByDotnet = await shared.GetAsync<Secret>("fromJs");
        Assert.Equal("lion-plain-5678", readByDotnet!.Value.Pin);

        // The server stores and hands out only ciphertext.
        using var http = gateway.Http();
        foreach (var (key, plain) in new[] { ("fromDotnet", "tiger-plain"), ("fromJs", "lion-plain") })
        {
            var raw = await http.GetStringAsync($"/project/{GatewayFactory.ProjectId}/cache/_undefined_/{id}/{key}");
            Assert.DoesNotContain(plain, raw, StringComparison.Ordinal);
            using var item = JsonDocument.Parse(raw);
            Assert.Equal(JsonValueKind.String, item.RootElement.GetProperty("value").ValueKind);
            Assert.Equal(0, item.RootElement.GetProperty("keyVersion").GetInt32());
        }

        // A rotation from .NET: the SDK reads both the old and the new value.
        await shared.RotateEncryptionAsync();
        await shared.SetAsync("afterRotation", "rotated-plain");
        var afterRotation = await RunSdkAsync(gateway, id, ["fromDotnet", "afterRotation"]);
        Assert.Equal("rotated-plain", afterRotation.GetProperty("read").GetProperty("afterRotation").GetString());
        Assert.Equal("tiger-plain-1234", afterRotation.GetProperty("read").GetProperty("fromDotnet").GetProperty("pin").GetString());
    }

    [Fact]
    public async Task Encrypted_messages_and_presence_reach_another_dotnet_client_decrypted()
    {
        await using var gateway = KestrelGateway.Start();
        var id = "m" + Guid.NewGuid().ToString("N");
        await using var alice = await gateway.ConnectAsync();
        await using var bob = await gateway.ConnectAsync();
        var aliceRoom = await alice.OpenAsync("_undefined_", id, new OpenOptions { Passphrase = Passphrase });
        var bobRoom = await bob.OpenAsync("_undefined_", id, new OpenOptions { Passphrase = Passphrase });
        var log = new EventLog(bobRoom);

        await aliceRoom.JoinAsync(new { name = "alice-plain" });
        await aliceRoom.SendMessageAsync(new { text = "whisper-plain" });
        var join = await log.WaitForAsync(e => e.Kind == Protocol.EventKind.PresenceJoin, "the join");
        Assert.Equal("alice-plain", join.ValueAs<JsonElement>().GetProperty("name").GetString());
        Assert.DoesNotContain("alice-plain", join.Data.PayloadJson!, StringComparison.Ordinal);
        var message = await log.WaitForAsync(e => e.Kind == Protocol.EventKind.Message, "the message");
        Assert.Equal("whisper-plain", message.ValueAs<JsonElement>().GetProperty("text").GetString());
        Assert.Equal("alice-plain", Assert.Single(await bobRoom.GetMembersAsync()).DataAs<JsonElement>().GetProperty("name").GetString());
    }
}
