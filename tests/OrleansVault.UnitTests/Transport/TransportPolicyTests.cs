using Microsoft.Extensions.Configuration;
using OrleansVault.Gateway.Transport;

namespace OrleansVault.UnitTests.Transport;

public sealed class TransportPolicyTests
{
    [Theory]
    [InlineData("http://127.0.0.1:5000", false)]
    [InlineData("http://127.0.0.9:5000", false)]
    [InlineData("http://localhost:5000", false)]
    [InlineData("http://[::1]:5000", false)]
    [InlineData("https://0.0.0.0:5001", false)]
    [InlineData("https://*:443", false)]
    [InlineData("http://0.0.0.0:5000", true)]
    [InlineData("http://*:80", true)]
    [InlineData("http://+:80", true)]
    [InlineData("http://[::]:80", true)]
    [InlineData("http://10.1.2.3:80", true)]
    [InlineData("http://gateway.internal:80", true)]
    public void Plain_http_is_flagged_everywhere_but_loopback(string url, bool flagged) =>
        Assert.Equal(flagged, TransportPolicy.IsPlaintextBeyondLoopback(url));

    [Fact]
    public void Both_urls_and_kestrel_endpoints_are_read()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["urls"] = "http://127.0.0.1:5000;http://0.0.0.0:5002",
            ["Kestrel:Endpoints:Public:Url"] = "http://*:8080",
            ["Kestrel:Endpoints:Secure:Url"] = "https://*:8443",
        }).Build();
        Assert.Equal(["http://0.0.0.0:5002", "http://*:8080"], TransportPolicy.PlaintextBeyondLoopback(configuration));
    }
}
