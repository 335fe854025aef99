"""ARM error responses, with the codes and wording Azure uses.

Every failure inside the fake is an `ArmError`; the HTTP layer turns it into a response,
and the deployment engine turns it into a deployment-operation failure. The helper
functions below carry ARM's real message texts (quoted from observed responses where we
know them; the few guessed ones say so in a comment).
"""

from __future__ import annotations

from typing import Any


class ArmError(Exception):
    """An error response: HTTP status, ARM error code, message, optional target/details.

    `wrapped=False` sends the bare `{"code", "message"}` object some resource providers
    return (Azure Image Builder's update conflict does), instead of `{"error": {...}}`.
    """

    def __init__(self, status: int, code: str, message: str, *, target: str | None = None,
                 details: list[dict] | None = None, headers: dict[str, str] | None = None,
                 wrapped: bool = True, extra: dict | None = None):
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.target = target
        self.details = details or []
        self.headers = headers or {}
        self.wrapped = wrapped
        self.extra = extra or {}

    def detail(self) -> dict:
        """The error object (what goes inside "error", or into another error's details)."""
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.target is not None:
            out["target"] = self.target
        if self.details:
            out["details"] = self.details
        out.update(self.extra)
        return out

    def body(self) -> dict:
        return {"error": self.detail()} if self.wrapped else self.detail()


# ----------------------------------------------------------------------------- request level

def missing_api_version() -> ArmError:
    return ArmError(400, "MissingApiVersionParameter",
                    "The api-version query parameter (?api-version=) is required for all requests.")


def invalid_api_version(version: str, supported: list[str]) -> ArmError:
    return ArmError(400, "InvalidApiVersionParameter",
                    f"The api-version '{version}' is invalid. The supported versions are '{','.join(supported)}'.")


def no_registered_provider(location: str, version: str, rtype: str, supported: list[str],
                           locations: list[str]) -> ArmError:
    short = rtype.split("/", 1)[1] if "/" in rtype else rtype
    return ArmError(400, "NoRegisteredProviderFound",
                    f"No registered resource provider found for location '{location}' and API version "
                    f"'{version}' for type '{short}'. The supported api-versions are '{', '.join(supported)}'. "
                    f"The supported locations are '{', '.join(locations)}'.")


def invalid_namespace(namespace: str) -> ArmError:
    return ArmError(404, "InvalidResourceNamespace", f"The resource namespace '{namespace}' is invalid.")


def invalid_resource_type(rtype: str, namespace: str, version: str) -> ArmError:
    short = rtype.split("/", 1)[1] if "/" in rtype else rtype
    return ArmError(404, "InvalidResourceType",
                    f"The resource type '{short}' could not be found in the namespace '{namespace}' "
                    f"for api version '{version}'.")


def subscription_not_found(sub: str) -> ArmError:
    return ArmError(404, "SubscriptionNotFound", f"The subscription '{sub}' could not be found.")


def resource_group_not_found(name: str) -> ArmError:
    return ArmError(404, "ResourceGroupNotFound", f"Resource group '{name}' could not be found.")


def resource_not_found(type_and_name: str, rg: str | None) -> ArmError:
    where = f" under resource group '{rg}'" if rg else ""
    return ArmError(404, "ResourceNotFound",
                    f"The Resource '{type_and_name}'{where} was not found. For more details please go to "
                    "https://aka.ms/ARMResourceNotFoundFix")


def parent_not_found(short_type: str, parent_id: str) -> ArmError:
    return ArmError(404, "ParentResourceNotFound",
                    f"Failed to perform 'write' on resource(s) of type '{short_type}', because the parent "
                    f"resource '{parent_id}' could not be found.")


def invalid_request_content(message: str, details: list[dict] | None = None) -> ArmError:
    return ArmError(400, "InvalidRequestContent",
                    f"The request content was invalid and could not be deserialized: '{message}'.",
                    details=details)


def location_required() -> ArmError:
    return ArmError(400, "LocationRequired", "The location property is required for this definition.")


def location_not_available(location: str, rtype: str, available: list[str]) -> ArmError:
    return ArmError(400, "LocationNotAvailableForResourceType",
                    f"The provided location '{location}' is not available for resource type '{rtype}'. "
                    f"List of available regions for the resource type is '{','.join(available)}'.")


def missing_registration(namespace: str) -> ArmError:
    return ArmError(409, "MissingSubscriptionRegistration",
                    f"The subscription is not registered to use namespace '{namespace}'. "
                    "See https://aka.ms/rps-not-found for how to register subscriptions.")


def cannot_delete_nested() -> ArmError:
    return ArmError(409, "CannotDeleteResource", "Can not delete resource before nested resources are deleted.")


# ----------------------------------------------------------------------------- authentication

def auth_missing() -> ArmError:
    return ArmError(401, "AuthenticationFailed", "Authentication failed. The 'Authorization' header is missing.")


def auth_bad_format() -> ArmError:
    return ArmError(401, "AuthenticationFailed",
                    "Authentication failed. The 'Authorization' header is provided in an invalid format.")


def token_invalid() -> ArmError:
    return ArmError(401, "InvalidAuthenticationToken", "The access token is invalid.")


def token_expired(expiry: str, now: str) -> ArmError:
    return ArmError(401, "ExpiredAuthenticationToken",
                    f"The access token expiry UTC time '{expiry}' is earlier than current UTC time '{now}'.")


def token_wrong_audience(audience: str, allowed: list[str]) -> ArmError:
    quoted = ",".join(f"'{a}'" for a in allowed)
    return ArmError(401, "InvalidAuthenticationTokenAudience",
                    f"The access token has been obtained for wrong audience or resource '{audience}'. "
                    f"It should exactly match with one of the allowed audiences {quoted}.")


def token_wrong_tenant(issuer_tenant: str, sub_tenant: str) -> ArmError:
    return ArmError(401, "InvalidAuthenticationTokenTenant",
                    f"The access token is from the wrong issuer 'https://sts.windows.net/{issuer_tenant}/'. "
                    f"It must match the tenant 'https://sts.windows.net/{sub_tenant}/' associated with this "
                    f"subscription. Please use the authority (URL) 'https://login.windows.net/{sub_tenant}' "
                    "to get the token.")


# ----------------------------------------------------------------------------- throttling / outages

def throttled(sub: str, retry_after: int) -> ArmError:
    return ArmError(429, "SubscriptionRequestsThrottled",
                    f"Number of requests for subscription '{sub}' exceeded the limit. "
                    f"Please try again after '{retry_after}' seconds.",
                    headers={"Retry-After": str(retry_after)})


def internal_error(tracking: str) -> ArmError:
    return ArmError(500, "InternalServerError",
                    f"Encountered internal server error. Diagnostic information: tracking id '{tracking}'.")


def service_unavailable(retry_after: int | None) -> ArmError:
    # Wording guessed: ARM's 503 bodies vary by front end.
    headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
    return ArmError(503, "ServiceUnavailable", "The service is temporarily unavailable. Please retry the request.",
                    headers=headers)


# ----------------------------------------------------------------------------- templates / deployments

def invalid_template(message: str, details: list[dict] | None = None, target: str | None = None) -> ArmError:
    return ArmError(400, "InvalidTemplate", message, details=details, target=target)


def template_validation_failed(inner: str) -> ArmError:
    return invalid_template(f"Deployment template validation failed: '{inner}'.")


def invalid_template_deployment(name: str, tracking: str, details: list[dict]) -> ArmError:
    return ArmError(400, "InvalidTemplateDeployment",
                    f"The template deployment '{name}' is not valid according to the validation procedure. "
                    f"The tracking id is '{tracking}'. See inner errors for details.", details=details)


DEPLOYMENT_FAILED_MESSAGE = ("At least one resource deployment operation failed. Please list deployment "
                             "operations for details. Please see https://aka.ms/arm-deployment-operations "
                             "for usage details.")

TERMINAL_FAILED_MESSAGE = ("The resource write operation failed to complete successfully, because it reached "
                           "terminal provisioning state 'Failed'.")


def deployment_failed(target: str, details: list[dict]) -> ArmError:
    return ArmError(400, "DeploymentFailed", DEPLOYMENT_FAILED_MESSAGE, target=target, details=details)


def deployment_active(name: str, started: str) -> ArmError:
    return ArmError(409, "DeploymentActive",
                    f"Unable to edit or replace deployment '{name}': previous deployment from '{started}' is "
                    "still active (expiration time is unknown). Please see https://aka.ms/arm-deploy for usage details.")


def not_modelled(what: str) -> ArmError:
    """Something real ARM supports that this fake deliberately does not (never an Azure code)."""
    return ArmError(501, "FakeArmNotModelled", f"The fake ARM endpoint does not model {what}.")
