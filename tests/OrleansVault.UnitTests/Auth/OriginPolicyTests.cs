using OrleansVault.Errors;
using OrleansVault.Gateway.Auth;
using OrleansVault.Projects;

namespace OrleansVault.UnitTests.Auth;

public sealed class OriginPolicyTests
{
    [Theory]
    [InlineData("https://app.example.com", "https://app.example.com", true)]
    [InlineData("https://app.example.com/", "https://APP.example.com", true)]
    [InlineData("https://*.example.com", "https://a.example.com", true)]
    [InlineData("https://*.example.com", "https://a.b.example.com", true)]
    [InlineData("https://*.example.com", "https://example.com", false)]
    [InlineData("https://*.example.com", "http://a.example.com", false)]
    [InlineData("https://*.example.com", "https://a.example.com.evil.io", false)]
    [InlineData("https://*.example.com", "https://evil.io/.example.com", false)]
    [InlineData("https://app.example.com", "https://app.example.com:8443", false)]
    public void Patterns_match_exact_origins_and_subdomains(string pattern, string origin, bool matches) =>
        Assert.Equal(matches, OriginPolicy.Matches(pattern, origin));

    [Fact]
    public void An_empty_allow_list_accepts_any_origin_and_none()
    {
        var key = Key([], allowNonBrowser: false);
        OriginPolicy.Enforce(key, null);
        OriginPolicy.Enforce(key, "https://anything.example");
    }

    [Fact]
    public void An_allow_list_refuses_a_missing_origin_unless_non_browser_clients_are_allowed()
    {
        var error = Assert.Throws<VaultException>(() => OriginPolicy.Enforce(Key(["https://a.example"], false), null));
        Assert.Equal(ErrorCodes.OriginMissing, error.Code);
        OriginPolicy.Enforce(Key(["https://a.example"], true), null);
    }

    [Fact]
    public void An_allow_list_refuses_other_origins()
    {
        var error = Assert.Throws<VaultException>(() => OriginPolicy.Enforce(Key(["https://a.example"], true), "https://b.example"));
        Assert.Equal(ErrorCodes.OriginNotAllowed, error.Code);
        Assert.Equal(VaultErrorKind.Forbidden, error.Kind);
    }

    private static ApiKeyRecord Key(IReadOnlyList<string> origins, bool allowNonBrowser) =>
        new("k", new byte[32], origins, Enabled: true, allowNonBrowser, 0);
}
