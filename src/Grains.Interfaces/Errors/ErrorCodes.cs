namespace OrleansVault.Errors;

/// <summary>Every error code OrleansVault sends to clients; docs/protocol.md lists them.</summary>
public static class ErrorCodes
{
    public const string CredentialsMissing = "authenticationError.credentials.missing";
    public const string CredentialsInvalid = "authenticationError.credentials.invalid";
    public const string TokenInvalid = "authenticationError.token.invalid";
    public const string TokenExpired = "authenticationError.token.expired";
    public const string ProjectMismatch = "authorizationError.project.mismatch";
    public const string KeyDisabled = "authorizationError.key.disabled";
    public const string OriginNotAllowed = "authorizationError.origin.notAllowed";
    public const string OriginMissing = "authorizationError.origin.server.notFound";
    public const string IdSignatureMissing = "authorizationError.idSignature.missing";
    public const string IdSignatureInvalid = "authorizationError.idSignature.invalid";
    public const string IdSignatureKeyVersion = "authorizationError.idSignature.keyVersion";

    public const string BodyMalformed = "validationError.body.malformed";
    public const string BodyTooLarge = "limitError.body.tooLarge";
    public const string RequestRate = "limitError.requests.retry";
    public const string SecretLimit = "conflictError.secret.limit";
    public const string IdentityMissing = "authenticationError.identity.missing";
    public const string IdentityInvalid = "authorizationError.identity.invalid";
    public const string SecretNotFound = "notFoundError.secret.missing";
    public const string KeyNotFound = "notFoundError.key.missing";
    public const string AdminDisabled = "notFoundError.admin.disabled";
    public const string AdminUnauthorized = "authenticationError.admin.invalid";
    public const string DemoSdkMissing = "notFoundError.demoSdk.missing";
    public const string ObjectTooLarge = "limitError.object.tooLarge";
    public const string ObjectLimit = "limitError.objects.tooMany";
    public const string FrameTooLarge = "limitError.frame.tooLarge";
    public const string ValueTooLarge = "limitError.value.tooLarge";
    public const string ClassInvalid = "validationError.class.invalid";
    public const string ObjectIdInvalid = "validationError.objectId.invalid";
    public const string KeyInvalid = "validationError.key.invalid";
    public const string ProjectIdInvalid = "validationError.projectId.invalid";
    public const string ValueMissing = "validationError.value.missing";
    public const string ValueTooDeep = "validationError.value.tooDeep";
    public const string TtlInvalid = "validationError.ttl.invalid";
    public const string UpdatedAtInvalid = "validationError.updatedAt.invalid";
    public const string OperationUnknown = "validationError.operation.unknown";
    public const string OperandInvalid = "validationError.operand.invalid";
    public const string TargetTypeMismatch = "validationError.target.typeMismatch";
    public const string PathInvalid = "validationError.path.invalid";
    public const string EventUnknown = "validationError.event.unknown";
    public const string SaltLengthInvalid = "validationError.saltLength.invalid";
    public const string KeyVersionInvalid = "validationError.keyVersion.invalid";
    public const string KeyVersionUnknown = "encryptionError.keyVersion.unknown";
    public const string EncryptedItem = "encryptionError.item.encrypted";
    public const string EncryptionRequired = "encryptionError.required";
    public const string AtomicInEncryptedClass = "encryptionError.atomic.refused";

    public const string PusherKeyTaken = "conflictError.pusherKey.taken";

    public const string UpdatedAtMismatch = "conflictError.updatedAt.mismatch";
    public const string KeyVersionMismatch = "conflictError.keyVersion.mismatch";

    public const string RouteNotFound = "notFoundError.route.unknown";
    public const string MethodNotAllowed = "requestError.method.notAllowed";
    public const string ResumeInvalid = "resumeError.connection.unknown";
    public const string ObjectNotOpen = "validationError.object.notOpen";
    public const string AlreadySubscribed = "conflictError.subscription.exists";
    public const string SubscriberTooSlow = "limitError.subscriber.tooSlow";
    public const string ObjectsPerConnection = "limitError.objects.perConnection";
    public const string ConnectionLimit = "limitError.connections.tooMany";
    public const string Unavailable = "serviceError.unavailable.retry";
    public const string Internal = "internalError.unexpected";
}
