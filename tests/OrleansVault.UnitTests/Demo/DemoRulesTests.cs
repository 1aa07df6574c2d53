using Microsoft.AspNetCore.Http;
using OrleansVault.Gateway.Demo;

namespace OrleansVault.UnitTests.Demo;

public sealed class DemoRulesTests
{
    [Theory]
    [InlineData("http://localhost:5000", "http://localhost:5000/demo/")]
    [InlineData("http://127.0.0.1:41234/", "http://127.0.0.1:41234/demo/")]
    [InlineData("http://0.0.0.0:8080", "http://localhost:8080/demo/")]
    [InlineData("http://[::]:8080", "http://localhost:8080/demo/")]
    [InlineData("https://+:443", "https://localhost:443/demo/")]
    [InlineData("http://*:80", "http://localhost:80/demo/")]
    [InlineData("http://[::1]:5000", "http://[::1]:5000/demo/")]
    public void Listening_addresses_become_openable_demo_urls(string address, string url) =>
        Assert.Equal(url, DemoUrls.ForAddress(address));

    [Theory]
    [InlineData("http", "127.0.0.1:5000", "http://127.0.0.1:5000", true)]
    [InlineData("http", "localhost:5000", "HTTP://LOCALHOST:5000", true)]
    [InlineData("https", "app.example.com", "https://app.example.com", true)]
    [InlineData("http", "127.0.0.1:5000", "http://127.0.0.1:5001", false)]
    [InlineData("http", "127.0.0.1:5000", "https://127.0.0.1:5000", false)]
    [InlineData("http", "127.0.0.1:5000", "http://localhost:5000", false)]
    [InlineData("http", "127.0.0.1:5000", "https://evil.example", false)]
    [InlineData("http", "127.0.0.1:5000", "null", false)]
    [InlineData("http", "127.0.0.1:5000", "", false)]
    [InlineData("http", "127.0.0.1:5000", "http://127.0.0.1:5000/", false)]
    public void Only_the_gateways_own_origin_may_ask_for_demo_tokens(string scheme, string host, string origin, bool own)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = scheme;
        context.Request.Host = new HostString(host);
        Assert.Equal(own, DemoTokenEndpoint.IsOwnOrigin(context.Request, origin));
    }

    [Fact]
    public void A_request_without_a_host_has_no_own_origin()
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        Assert.False(DemoTokenEndpoint.IsOwnOrigin(context.Request, "http://"));
    }
}
