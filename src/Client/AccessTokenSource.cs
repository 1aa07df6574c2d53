using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace OrleansVault.Client;

/// <summary>
/// Hands out access tokens: from the application's callback, or, for a trusted backend with an API key, minted at the
/// gateway's token endpoint with Basic credentials and reused until shortly before they expire.
/// </summary>
internal sealed class AccessTokenSource : IDisposable
{
    private static readonly TimeSpan RenewBefore = TimeSpan.FromMinutes(1);
    private readonly VaultClientOptions _options;
    private readonly HttpClient? _http;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private string? _token;
    private DateTimeOffset _renewAt;

    public AccessTokenSource(VaultClientOptions options)
    {
        _options = options;
        if (options.AccessTokenProvider is null)
        {
            if (string.IsNullOrEmpty(options.ApiKey) || string.IsNullOrEmpty(options.ApiSecret))
            {
                throw new ArgumentException("Give VaultClientOptions.AccessTokenProvider, or ApiKey and ApiSecret.", nameof(options));
            }

            _http = new HttpClient { BaseAddress = options.BaseUrl, Timeout = TimeSpan.FromSeconds(30) };
        }
    }

    public async Task<string> GetAsync(CancellationToken cancellationToken)
    {
        if (_options.AccessTokenProvider is { } provider)
        {
            return await provider(cancellationToken);
        }

        await _gate.WaitAsync(cancellationToken);
        try
        {
            if (_token is null || DateTimeOffset.UtcNow >= _renewAt)
            {
                (_token, _renewAt) = await MintAsync(cancellationToken);
            }

            return _token;
        }
        finally
        {
            _gate.Release();
        }
    }

    public void Dispose()
    {
        _http?.Dispose();
        _gate.Dispose();
    }

    private async Task<(string Token, DateTimeOffset RenewAt)> MintAsync(CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"project/{Uri.EscapeDataString(_options.ProjectId)}/auth/token");
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(_options.ApiKey + ":" + _options.ApiSecret)));
        using var response = await _http!.SendAsync(request, cancellationToken);
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw ErrorFromBody(body, (int)response.StatusCode);
        }

        return (body, RenewAtFor(body));
    }

    /// <summary>Renews a minute before the token's expiry (OrleansVault tokens carry times in milliseconds).</summary>
    private static DateTimeOffset RenewAtFor(string token)
    {
        try
        {
            var payload = token.Split('.')[1].Replace('-', '+').Replace('_', '/');
            payload = payload.PadRight(payload.Length + ((4 - (payload.Length % 4)) % 4), '=');
            using var document = JsonDocument.Parse(Convert.FromBase64String(payload));
            if (document.RootElement.TryGetProperty("exp", out var exp) && exp.TryGetInt64(out var expiresAt))
            {
                var expiry = expiresAt > 100_000_000_000 ? DateTimeOffset.FromUnixTimeMilliseconds(expiresAt) : DateTimeOffset.FromUnixTimeSeconds(expiresAt);
                return expiry - RenewBefore;
            }
        }
        catch (Exception error) when (error is FormatException or JsonException or IndexOutOfRangeException)
        {
            // Not a readable JWT: mint again next time.
        }

        return DateTimeOffset.MinValue;
    }

    private static VaultClientException ErrorFromBody(string body, int status)
    {
        try
        {
            using var document = JsonDocument.Parse(body);
            var root = document.RootElement;
            var message = root.TryGetProperty("message", out var m) ? m.GetString() : null;
            var code = root.TryGetProperty("cause", out var cause) && cause.TryGetProperty("code", out var c) ? c.GetString() : null;
            return new VaultClientException(code ?? ClientErrorCodes.Unexpected, message ?? $"Minting an access token failed with HTTP {status}.");
        }
        catch (JsonException)
        {
            return new VaultClientException(ClientErrorCodes.Unexpected, $"Minting an access token failed with HTTP {status}.");
        }
    }
}
