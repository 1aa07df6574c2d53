using System.Text.Json;
using Microsoft.AspNetCore.WebUtilities;
using OrleansVault.Errors;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>The one place where domain errors become HTTP statuses and the SDK's error body <c>{message, cause:{code}}</c>.</summary>
public static class ErrorResponses
{
    /// <summary>What a client hears when the cluster did not answer; "retry" makes the SDK back off and try again.</summary>
    public const string UnavailableMessage = "Service temporarily unavailable. Please retry.";

    public static int StatusFor(VaultErrorKind kind) => kind switch
    {
        VaultErrorKind.Validation => StatusCodes.Status400BadRequest,
        VaultErrorKind.Unauthenticated => StatusCodes.Status401Unauthorized,
        VaultErrorKind.Forbidden => StatusCodes.Status403Forbidden,
        VaultErrorKind.NotFound => StatusCodes.Status404NotFound,
        VaultErrorKind.Conflict => StatusCodes.Status409Conflict,
        VaultErrorKind.TooLarge => StatusCodes.Status413PayloadTooLarge,
        VaultErrorKind.RateLimited => StatusCodes.Status429TooManyRequests,
        VaultErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status500InternalServerError,
    };

    public static Task WriteAsync(HttpContext context, VaultException error) =>
        WriteAsync(context, StatusFor(error.Kind), error.Code, error.Message);

    public static async Task WriteAsync(HttpContext context, int status, string code, string message)
    {
        if (context.Response.HasStarted)
        {
            return;
        }

        context.Response.Clear();
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        await using var writer = new Utf8JsonWriter(context.Response.Body);
        writer.WriteStartObject();
        writer.WriteString("message", message);
        writer.WriteStartObject("cause");
        writer.WriteString("code", code);
        writer.WriteEndObject();
        writer.WriteEndObject();
        await writer.FlushAsync(context.RequestAborted);
    }

    /// <summary>The error body for a bare status (unknown route, wrong method) that no handler explained.</summary>
    public static (string Code, string Message) ForBareStatus(int status) => status switch
    {
        StatusCodes.Status404NotFound => (ErrorCodes.RouteNotFound, "There is no such endpoint."),
        StatusCodes.Status405MethodNotAllowed => (ErrorCodes.MethodNotAllowed, "This endpoint does not accept that method."),
        StatusCodes.Status413PayloadTooLarge => (ErrorCodes.BodyTooLarge, "The request body is too large."),
        StatusCodes.Status415UnsupportedMediaType => (ErrorCodes.BodyMalformed, "Unsupported content type."),
        >= 400 and < 500 => (ErrorCodes.BodyMalformed, ReasonPhrases.GetReasonPhrase(status)),
        _ => (ErrorCodes.Internal, "Internal error."),
    };
}
