using System.ComponentModel;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using OrleansVault.Client.Encryption;

namespace OrleansVault.UnitTests.Encryption;

/// <summary>
/// Runs tests/compat/lib/e2ee-vector.mjs: the unmodified @vaultrice/sdk encrypting and decrypting offline.
/// Needs node on PATH and <c>npm ci</c> in tests/compat (scripts/test.sh runs it before the .NET suites); without
/// them the tests fail, not skip, so a missing SDK can never pass for a compatible one.
/// </summary>
internal static class SdkEncryptionVectors
{
    private static readonly string CompatDirectory = Path.Combine(RepositoryRoot.Path, "tests", "compat");

    /// <summary>One SDK run: what it encrypted (in order) and, per ciphertext given, its plaintext or its error.</summary>
    public sealed record Result(IReadOnlyList<EncryptedValue> Encrypted, IReadOnlyList<(string? Json, string? Error)> Decrypted);

    public static async Task<Result> RunAsync(
        string passphrase, string objectId, VaultKeySettingsInfo settings, IEnumerable<string> encrypt, IEnumerable<EncryptedValue> decrypt)
    {
        if (!Directory.Exists(Path.Combine(CompatDirectory, "node_modules", "@vaultrice", "sdk")))
        {
            Assert.Fail($"@vaultrice/sdk is not installed: run `npm ci` in {CompatDirectory}.");
        }

        var request = new JsonObject
        {
            ["passphrase"] = passphrase,
            ["objectId"] = objectId,
            ["settings"] = new JsonObject
            {
                ["encryptionSettings"] = ToJson(settings.Current),
                ["previousEncryptionSettings"] = new JsonArray([.. settings.Previous.Select(ToJson)]),
            },
            ["encrypt"] = new JsonArray([.. encrypt.Select(json => (JsonNode?)json)]),
            ["decrypt"] = new JsonArray([.. decrypt.Select(v => (JsonNode?)new JsonObject { ["ciphertext"] = v.Ciphertext, ["keyVersion"] = v.KeyVersion })]),
        };

        var start = new ProcessStartInfo("node", [Path.Combine("lib", "e2ee-vector.mjs")])
        {
            WorkingDirectory = CompatDirectory,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        Process process;
        try
        {
            process = Process.Start(start)!;
        }
        catch (Win32Exception e)
        {
            throw new InvalidOperationException("node is not on PATH: the cross-SDK encryption tests need it.", e);
        }

        using (process)
        using (var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60)))
        {
            var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
            var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
            await process.StandardInput.WriteAsync(request.ToJsonString());
            process.StandardInput.Close();
            try
            {
                await process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                process.Kill(entireProcessTree: true);
                throw;
            }

            Assert.True(process.ExitCode == 0, $"e2ee-vector.mjs failed ({process.ExitCode}): {await stderr}");
            using var answer = JsonDocument.Parse(await stdout);
            var encrypted = answer.RootElement.GetProperty("encrypted").EnumerateArray()
                .Select(e => new EncryptedValue(e.GetProperty("ciphertext").GetString()!, e.GetProperty("keyVersion").GetInt32()))
                .ToList();
            var decrypted = answer.RootElement.GetProperty("decrypted").EnumerateArray()
                .Select(d => (d.TryGetProperty("json", out var json) ? json.GetString() : null, d.TryGetProperty("error", out var error) ? error.GetString() : null))
                .ToList();
            return new Result(encrypted, decrypted);
        }
    }

    private static JsonObject ToJson(VaultKeySettings settings) =>
        new() { ["salt"] = settings.Salt, ["keyVersion"] = settings.KeyVersion, ["createdAt"] = settings.CreatedAt };
}
