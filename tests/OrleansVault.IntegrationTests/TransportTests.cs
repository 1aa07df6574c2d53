using System.Diagnostics;
using System.Net;
using System.Net.WebSockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace OrleansVault.IntegrationTests;

public sealed class TransportTests
{
    [Fact]
    public async Task Plain_http_beyond_loopback_is_refused_at_start_up_unless_allowed()
    {
        await using var refused = new GatewayFactory(settings: new Dictionary<string, string?> { ["urls"] = "http://0.0.0.0:5999" });
        var error = Assert.ThrowsAny<Exception>(() => refused.CreateClient());
        Assert.Contains("without TLS", error.ToString(), StringComparison.Ordinal);
        refused.DeleteData();

        await using var allowed = new GatewayFactory(settings: new Dictionary<string, string?>
        {
            ["urls"] = "http://0.0.0.0:5999",
            ["Vault:Transport:AllowPlaintext"] = "true",
        });
        try
        {
            using var client = allowed.CreateClient();
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
        }
        finally
        {
            allowed.DeleteData();
        }
    }

    [Fact]
    public async Task The_gateway_serves_https_and_wss_with_a_configured_certificate()
    {
        var directory = Path.Combine(Path.GetTempPath(), "ov-tls-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(directory);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        var pfx = Path.Combine(directory, "gateway.pfx");
        await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pfx, "test-password"));

        var port = GatewayFactory.FreePortForTests();
        using var gateway = StartGateway(directory, new Dictionary<string, string>
        {
            ["ASPNETCORE_URLS"] = string.Empty,
            ["Kestrel__Endpoints__Https__Url"] = $"https://127.0.0.1:{port}",
            ["Kestrel__Endpoints__Https__Certificate__Path"] = pfx,
            ["Kestrel__Endpoints__Https__Certificate__Password"] = "test-password",
        });
        try
        {
            // Trust exactly this self-signed certificate, nothing else.
            bool Trust(X509Certificate? presented) => presented is not null && presented.GetCertHashString() == certificate.Thumbprint;
            using var handler = new HttpClientHandler { ServerCertificateCustomValidationCallback = (_, presented, _, _) => Trust(presented) };
            using var client = new HttpClient(handler) { BaseAddress = new Uri($"https://127.0.0.1:{port}") };
            await Wait.UntilAsync(
                async () =>
                {
                    try
                    {
                        return (await client.GetAsync("/health/ready")).StatusCode == HttpStatusCode.OK;
                    }
                    catch (HttpRequestException)
                    {
                        return false;
                    }
                },
                "the TLS gateway to be ready",
                TimeSpan.FromSeconds(60));

            client.DefaultRequestHeaders.TryAddWithoutValidation("Authorization", GatewayFactory.BasicFor("tls-key", "tls-secret-0123456789"));
            var token = await client.GetStringAsync("/project/tls/auth/token");

            using var socket = new ClientWebSocket();
            socket.Options.RemoteCertificateValidationCallback = (_, presented, _, _) => Trust(presented);

            // The client offers permessage-deflate; compression stays off (it leaks secrets through sizes), so it is not accepted.
            socket.Options.DangerousDeflateOptions = new WebSocketDeflateOptions();
            socket.Options.CollectHttpResponseDetails = true;
            await socket.ConnectAsync(new Uri($"wss://127.0.0.1:{port}/project/tls/ws/c/o?auth={Uri.EscapeDataString("Bearer " + token)}"), CancellationToken.None);
            Assert.Equal("connected", (await new FrameReader(socket).NextAsync()).GetProperty("event").GetString());
            Assert.False(socket.HttpResponseHeaders?.ContainsKey("Sec-WebSocket-Extensions") ?? false, "the server must not accept compression");
        }
        finally
        {
            gateway.Kill(entireProcessTree: true);
            await gateway.WaitForExitAsync();
            Directory.Delete(directory, recursive: true);
        }
    }

    /// <summary>Runs the built gateway (the same configuration as this test build) as its own process.</summary>
    private static Process StartGateway(string directory, Dictionary<string, string> environment)
    {
        var root = AppContext.BaseDirectory;
        while (!File.Exists(Path.Combine(root, "OrleansVault.sln")))
        {
            root = Path.GetDirectoryName(root.TrimEnd(Path.DirectorySeparatorChar)) ?? throw new InvalidOperationException("repository root not found");
        }

        var configuration = new DirectoryInfo(AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar)).Parent!.Name;
        var dll = Path.Combine(root, "src", "Gateway", "bin", configuration, "net10.0", "OrleansVault.Gateway.dll");
        var start = new ProcessStartInfo("dotnet", [dll]) { WorkingDirectory = Path.GetDirectoryName(dll)!, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["Vault__DataDirectory"] = Path.Combine(directory, "data");
        start.Environment["Vault__MasterKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));
        start.Environment["Vault__Bootstrap__ProjectId"] = "tls";
        start.Environment["Vault__Bootstrap__ApiKey"] = "tls-key";
        start.Environment["Vault__Bootstrap__ApiSecret"] = "tls-secret-0123456789";
        start.Environment["Vault__Silo__SiloPort"] = GatewayFactory.FreePortForTests().ToString(System.Globalization.CultureInfo.InvariantCulture);
        start.Environment["Vault__Silo__GatewayPort"] = GatewayFactory.FreePortForTests().ToString(System.Globalization.CultureInfo.InvariantCulture);
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        var process = Process.Start(start)!;
        process.OutputDataReceived += (_, _) => { };
        process.ErrorDataReceived += (_, _) => { };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }
}
