using Microsoft.AspNetCore.Diagnostics;
using OrleansVault.Errors;
using OrleansVault.Gateway.Audit;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Objects;

namespace OrleansVault.Gateway.Vaultrice;

/// <summary>
/// Turns every failure into the SDK's error shape: domain errors with their status, Kestrel's bad-request
/// errors (oversized bodies) with theirs, cluster trouble as a retryable 503, and anything else as a 500
/// with no exception text. Bare 404/405 responses get a body too.
/// </summary>
public sealed class ErrorHandlingMiddleware(RequestDelegate next, ILogger<ErrorHandlingMiddleware> logger)
{
    public async Task InvokeAsync(HttpContext context)
    {
        try
        {
            await next(context);
            if (context.Response is { HasStarted: false, StatusCode: >= 400 } response
                && response.ContentLength is null
                && response.ContentType is null
                && context.Features.Get<IStatusCodePagesFeature>() is not { Enabled: false })
            {
                var (code, message) = ErrorResponses.ForBareStatus(response.StatusCode);
                await ErrorResponses.WriteAsync(context, response.StatusCode, code, message);
            }
        }
        catch (VaultException error)
        {
            if (error.Kind == VaultErrorKind.Forbidden && context.Request.RouteValues["projectId"] is string projectId && Names.IsValidProjectId(projectId)
                && !context.Request.Path.Value!.EndsWith("/auth/token", StringComparison.Ordinal))
            {
                // Origin, object-ID signature and disabled-key refusals go to the project's audit log (token refusals are recorded where tokens are minted).
                context.RequestServices.GetRequiredService<AuditTrail>().Record(projectId, null, "request", "refused", context.Connection.RemoteIpAddress?.ToString(), error.Code);
            }

            await ErrorResponses.WriteAsync(context, error);
        }
        catch (BadHttpRequestException error)
        {
            var (code, message) = ErrorResponses.ForBareStatus(error.StatusCode);
            await ErrorResponses.WriteAsync(context, error.StatusCode, code, message);
        }
        catch (OperationCanceledException) when (context.RequestAborted.IsCancellationRequested)
        {
            // The client went away; nobody is left to answer.
        }
        catch (Exception error) when (error is TimeoutException or OrleansException)
        {
            GatewayLog.ClusterUnavailable(logger, error.GetType().Name);
            await ErrorResponses.WriteAsync(context, StatusCodes.Status503ServiceUnavailable, ErrorCodes.Unavailable, ErrorResponses.UnavailableMessage);
        }
        catch (Exception error)
        {
            GatewayLog.UnhandledError(logger, error);
            await ErrorResponses.WriteAsync(context, StatusCodes.Status500InternalServerError, ErrorCodes.Internal, "Internal error.");
        }
    }
}

/// <summary>Marks a response whose bare status is the answer itself (a missing item's 404 has no body).</summary>
public sealed class BareStatusFeature : IStatusCodePagesFeature
{
    public bool Enabled { get; set; }
}
