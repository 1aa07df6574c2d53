using Microsoft.AspNetCore.SignalR;
using OrleansVault.Errors;
using OrleansVault.Gateway.Diagnostics;
using OrleansVault.Gateway.Vaultrice;
using OrleansVault.Protocol;

namespace OrleansVault.Gateway.Native;

/// <summary>
/// The native door's one place for errors: domain errors become <see cref="HubException"/> text <c>"{code}: {message}"</c>
/// (the client library reads the code back), a cluster that does not answer becomes the retryable unavailable code,
/// and the per-connection call rate is enforced before any hub method runs.
/// </summary>
public sealed class NativeErrorFilter(ILogger<NativeErrorFilter> logger) : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocationContext, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        // Closing and leaving are never refused for rate: a refused one would leave a presence entry behind.
        if (invocationContext.HubMethodName is not (Protocol.NativeProtocol.Methods.Close or Protocol.NativeProtocol.Methods.Leave)
            && VaultHub.Connection(invocationContext.Context) is { } connection && !connection.TryTakeInvocation())
        {
            throw new HubException(NativeProtocol.FormatError(ErrorCodes.RequestRate, "Too many calls on this connection; retry in a moment."));
        }

        try
        {
            return await next(invocationContext);
        }
        catch (Exception error) when (Translate(error, logger) is { } hubError)
        {
            throw hubError;
        }
        catch (Exception error) when (error is not HubException and not OperationCanceledException)
        {
            // A bug: logged here (SignalR's own dispatcher log is quieted, as client mistakes would flood it), hidden from the client.
            GatewayLog.UnhandledError(logger, error);
            throw;
        }
    }

    /// <summary>The client-safe form of <paramref name="error"/>, or null for an unexpected error (SignalR hides its text).</summary>
    public static HubException? Translate(Exception error, ILogger logger)
    {
        switch (error)
        {
            case HubException:
                return null;
            case VaultException vault:
                return new HubException(NativeProtocol.FormatError(vault.Code, vault.Message));
            case TimeoutException or OrleansException:
                GatewayLog.ClusterUnavailable(logger, error.GetType().Name);
                return new HubException(NativeProtocol.FormatError(ErrorCodes.Unavailable, ErrorResponses.UnavailableMessage));
            default:
                return null;
        }
    }
}
