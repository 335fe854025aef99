//! Why a deployment failed. ARM's own answer is "DeploymentFailed: At least one resource
//! deployment operation failed", which tells the user nothing; the deployment's operations
//! (and those of the nested deployments the modules become) name the resource that failed
//! and carry the resource provider's message.

use serde_json::Value;

use crate::azure::error::{AzureError, ErrorDetail};
use crate::azure::{Error, Result, Session, api};

/// Nested deployments deeper than this are not followed (ours are two levels deep).
const MAX_DEPTH: usize = 4;

/// Every operation of a deployment and, depth first, of the deployments it nested.
pub async fn all_operations(session: &Session, deployment_path: &str) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    let mut pending = vec![(deployment_path.to_string(), 0usize)];
    while let Some((path, depth)) = pending.pop() {
        let ops = session.arm.list(&format!("{path}/operations"), api::RESOURCES).await?;
        for op in ops {
            if depth < MAX_DEPTH
                && resource_type(&op).is_some_and(|t| t.eq_ignore_ascii_case("Microsoft.Resources/deployments"))
                && let Some(id) = op.pointer("/properties/targetResource/id").and_then(Value::as_str)
            {
                pending.push((id.to_string(), depth + 1));
            }
            out.push(op);
        }
    }
    Ok(out)
}

fn resource_type(op: &Value) -> Option<&str> {
    op.pointer("/properties/targetResource/resourceType").and_then(Value::as_str)
}

/// A failed operation as one error detail: `Microsoft.X/y 'name': CODE: message`, with the
/// resource id as target. Nested deployments are skipped: their own operations say more.
fn failed_detail(op: &Value) -> Option<ErrorDetail> {
    let state = op.pointer("/properties/provisioningState").and_then(Value::as_str)?;
    if !state.eq_ignore_ascii_case("Failed") {
        return None;
    }
    let rtype = resource_type(op).unwrap_or("resource");
    if rtype.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
        return None;
    }
    let name = op.pointer("/properties/targetResource/resourceName").and_then(Value::as_str).unwrap_or("?");
    let status = op.pointer("/properties/statusMessage");
    let inner = status.and_then(ErrorDetail::from_body).unwrap_or_else(|| ErrorDetail {
        code: op.pointer("/properties/statusCode").and_then(Value::as_str).unwrap_or("Failed").to_string(),
        message: status.map(|s| s.to_string()).unwrap_or_default(),
        ..ErrorDetail::default()
    });
    // The innermost detail is the one that names the cause; its siblings add nothing.
    let leaf = inner.leaves().into_iter().next().cloned().unwrap_or(inner);
    Some(ErrorDetail {
        code: leaf.code,
        message: format!("{rtype} '{name}': {}", leaf.message),
        target: op.pointer("/properties/targetResource/id").and_then(Value::as_str).map(str::to_string),
        details: Vec::new(),
    })
}

/// Replaces a deployment's generic failure with the failing resources and their messages.
/// Other errors (a 400 before anything ran, a 401, a transport error) are returned as they are,
/// and so is the original error when the operations cannot be read.
pub async fn explain(session: &Session, deployment_path: &str, err: Error) -> Error {
    let Error::Azure(azure) = &err else { return err };
    if !azure.error.code.eq_ignore_ascii_case("DeploymentFailed") && !azure.error.code.eq_ignore_ascii_case("Conflict")
    {
        return err;
    }
    let Ok(ops) = all_operations(session, deployment_path).await else { return err };
    let failed: Vec<ErrorDetail> = ops.iter().filter_map(failed_detail).collect();
    if failed.is_empty() {
        return err;
    }
    let noun = if failed.len() == 1 { "resource" } else { "resources" };
    Error::Azure(Box::new(AzureError {
        error: ErrorDetail {
            code: azure.error.code.clone(),
            message: format!("{} {noun} failed to deploy", failed.len()),
            target: None,
            details: failed,
        },
        ..(**azure).clone()
    }))
}

/// The classic AIB race: the image template was refused because its identity's new role
/// assignment had not reached every ARM cache yet. Worth a retry after a wait.
pub async fn is_authorization_race(_session: &Session, _deployment_path: &str, err: &Error) -> bool {
    let Error::Azure(azure) = err else { return false };
    azure.error.leaves().iter().any(|leaf| {
        let on_template = leaf.message.contains("Microsoft.VirtualMachineImages/imageTemplates");
        let message = leaf.message.to_ascii_lowercase();
        let refused = leaf.code.contains("Authorization")
            || message.contains("not authorized")
            || message.contains("does not have authorization")
            || message.contains("does not have permission");
        on_template && refused
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_failed_operation_names_its_resource_and_cause() {
        let op = json!({"properties": {
            "provisioningState": "Failed", "statusCode": "BadRequest",
            "targetResource": {"id": "/subscriptions/s/resourceGroups/g/providers/Microsoft.VirtualMachineImages/imageTemplates/web-1",
                "resourceType": "Microsoft.VirtualMachineImages/imageTemplates", "resourceName": "web-1"},
            "statusMessage": {"status": "Failed", "error": {"code": "ResourceDeploymentFailure", "message": "outer",
                "details": [{"code": "InvalidParameter", "message": "vmSize Standard_X is not available"}]}}}});
        let d = failed_detail(&op).unwrap();
        assert_eq!(d.code, "InvalidParameter");
        assert_eq!(
            d.message,
            "Microsoft.VirtualMachineImages/imageTemplates 'web-1': vmSize Standard_X is not available"
        );
        assert!(d.target.unwrap().ends_with("/imageTemplates/web-1"));
    }

    #[test]
    fn succeeded_and_nested_deployment_operations_are_not_causes() {
        let ok = json!({"properties": {"provisioningState": "Succeeded", "targetResource": {"resourceType": "Microsoft.Storage/storageAccounts"}}});
        let nested = json!({"properties": {"provisioningState": "Failed", "targetResource": {"resourceType": "Microsoft.Resources/deployments"}}});
        assert!(failed_detail(&ok).is_none());
        assert!(failed_detail(&nested).is_none());
    }

    #[test]
    fn a_status_message_without_error_shape_is_kept() {
        let op = json!({"properties": {"provisioningState": "Failed", "statusCode": "Conflict",
            "targetResource": {"resourceType": "Microsoft.Compute/galleries", "resourceName": "g"}, "statusMessage": "busy"}});
        let d = failed_detail(&op).unwrap();
        assert_eq!((d.code.as_str(), d.message.as_str()), ("Conflict", "Microsoft.Compute/galleries 'g': \"busy\""));
    }
}
