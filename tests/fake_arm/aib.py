"""Azure Image Builder: image templates (immutable once created), triggers, and the run
lifecycle (POST run -> lastRunStatus Running/Queued..Distributing -> Succeeded,
PartiallySucceeded, Failed or Canceled; runOutputs; gallery image versions with per-region
replication).

What AIB checks is modelled from its documentation: at creation the identity, the
distribution targets and the source exist; at run start (entering Building) the template's
identity holds the permissions AIB documents (publish to the gallery image, read the source
image, join the subnet, assign the build-VM identities, read the artifacts container, use
the staging resource group). Message texts for these failures are ours (AIB's exact
wording is not published) except the update conflict, which is AIB's.
"""

from __future__ import annotations

import copy
import hashlib
import re
from typing import Any

from . import errors, ids
from .providers import GalleryImageVersions, Handler, norm_location, region_display, replication_done, \
    start_replication, tick_replication
from .state import Countdown, Resource, derived_uuid

TEMPLATES_TYPE = "Microsoft.VirtualMachineImages/imageTemplates"
AIB_VERSIONS = ["2025-10-01"]

UPDATE_CONFLICT = ("Update/Upgrade of image templates is currently not supported. Please change the name of the "
                   "template you are submitting. If you have previously tried to submit a template and it failed "
                   "to provision, you must delete it first and then resubmit. For more information, go to "
                   "https://aka.ms/azvmimagebuilderts.")

GALLERY_ACTIONS = ["Microsoft.Compute/galleries/read", "Microsoft.Compute/galleries/images/read",
                   "Microsoft.Compute/galleries/images/versions/read", "Microsoft.Compute/galleries/images/versions/write"]
SOURCE_GALLERY_ACTIONS = GALLERY_ACTIONS[:3]
MANAGED_IMAGE_ACTIONS = ["Microsoft.Compute/images/write", "Microsoft.Compute/images/read",
                         "Microsoft.Compute/images/delete"]
SUBNET_ACTIONS = ["Microsoft.Network/virtualNetworks/read", "Microsoft.Network/virtualNetworks/subnets/join/action"]
ASSIGN_IDENTITY_ACTION = "Microsoft.ManagedIdentity/userAssignedIdentities/*/assign/action"
BLOB_READ = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read"
# image-builder-json.md, "Properties: stagingResourceGroup": "Image Builder checks the tags on the
# staging resource group with keys `imageTemplateResourceGroupName` and `imageTemplateName` to
# determine if any image template uses the staging resource group. If these tags exist before the
# image template submission or they do not match the running image template during the image build,
# the operation will fail." and "The staging resource group has the following tags added to it:
# `usedBy`, `imageTemplateName`, `imageTemplateResourceGroupName`."
STAGING_TAG_KEYS = ("imagetemplatename", "imagetemplateresourcegroupname")
STAGING_IN_USE = ("The staging resource group '{staging}' is already associated with an image template (its "
                  "imageTemplateName and imageTemplateResourceGroupName tags exist). A staging resource group "
                  "cannot be associated with another image template.")  # wording guessed
STAGING_MISMATCH = ("The staging resource group '{staging}' is not associated with this image template: its "
                    "imageTemplateName/imageTemplateResourceGroupName tags do not match.")  # wording guessed
BLOB_WRITE = "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write"
# Azure Image Builder's first-party application ("Azure Virtual Machine Image Builder"); the object
# id of its service principal differs per tenant (the fake's is fixed; scenario `aib.first_party_object_id`).
FIRST_PARTY_APP_ID = "cf32a0cc-373c-47c9-9156-0db11f6a6dfc"
FIRST_PARTY_OBJECT_ID = "7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
STAGING_ACTIONS = ["Microsoft.Compute/virtualMachines/write", "Microsoft.Storage/storageAccounts/write"]

_VERSION_RE = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")


def _identity_ids(body: dict) -> list[str]:
    return list((body.get("identity") or {}).get("userAssignedIdentities") or {})


def image_definition_of(gallery_image_id: str) -> tuple[str, str | None]:
    """(image definition id, version or None) of a SharedImage galleryImageId."""
    parsed = ids.parse_id(gallery_image_id)
    if parsed and parsed.full_type.lower() == "microsoft.compute/galleries/images/versions":
        return parsed.parent.id, parsed.leaf_name
    return gallery_image_id, None


class ImageTemplates(Handler):
    type = TEMPLATES_TYPE
    versions = AIB_VERSIONS
    put_lro = "async"
    delete_lro = "location"
    readonly_props = ("provisioningState", "provisioningError", "lastRunStatus", "exactStagingResourceGroup")

    def validate(self, svc, rid, body, version):
        super().validate(svc, rid, body, version)
        identity = body.get("identity") or {}
        uais = _identity_ids(body)
        if identity.get("type") == "UserAssigned" and len(uais) != 1:
            raise errors.ArmError(400, "InvalidParameter",  # wording guessed
                                  "An image template must have exactly one user-assigned identity; found "
                                  f"{len(uais)}.", target="identity.userAssignedIdentities")
        for uai in uais:
            if svc.store.get(uai) is None:
                raise errors.ArmError(
                    400, "FailedIdentityOperation",
                    f"Identity operation for resource '{rid.id}' failed with error 'Failed to perform resource "
                    f"identity operation. Status: 'BadRequest'. Response: '{{\"error\":{{\"code\":\"BadRequest\","
                    f"\"message\":\"Resource '{uai}' was not found.\"}}}}'.'.")

    def normalise(self, svc, rid, body):
        out = super().normalise(svc, rid, body)
        identity = out.get("identity")
        if isinstance(identity, dict) and isinstance(identity.get("userAssignedIdentities"), dict):
            identity["userAssignedIdentities"] = {k.lower(): {} for k in identity["userAssignedIdentities"]}
        source = out.get("properties", {}).get("source")
        if isinstance(source, dict):
            source.pop("exactVersion", None)
        return out

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        if existing is None or dry_run:
            return
        if changed or existing.properties.get("provisioningState") == "Failed":
            raise errors.ArmError(409, "Conflict", UPDATE_CONFLICT, wrapped=False)

    def build(self, svc, rid, new, existing):
        body = copy.deepcopy(new)
        props = body.setdefault("properties", {})
        if "identity" in body:
            body["identity"]["userAssignedIdentities"] = {
                (svc.store.get(k).id if svc.store.get(k) else k): _identity_view(svc, k) for k in _identity_ids(new)}
        staging = props.get("stagingResourceGroup")
        props["exactStagingResourceGroup"] = staging or (
            f"/subscriptions/{rid.subscription}/resourceGroups/IT_{rid.resource_group}_{rid.leaf_name}_"
            f"{derived_uuid('staging', rid.id)}")
        props["provisioningState"] = "Succeeded"
        return body

    def _creation_error(self, svc, res):
        props = res.properties
        source = props.get("source", {})
        if source.get("type") == "SharedImageVersion":
            version_id = source.get("imageVersionId", "")
            definition, version = image_definition_of(version_id)
            if svc.store.get(definition) is None or (version and version.lower() != "latest"
                                                      and svc.store.get(version_id) is None):
                return ("BadSharedImageVersionSource",
                        f"The source image version '{version_id}' was not found.")
        for target in props.get("distribute", []):
            if target.get("type") == "SharedImage":
                definition, _ = image_definition_of(target.get("galleryImageId", ""))
                if svc.store.get(definition) is None:
                    return ("BadSharedImageDistribute",
                            f"The gallery image definition '{definition}' of distribution target "
                            f"'{target.get('runOutputName')}' was not found.")
                # image-builder-json.md: "One of the regions must be the region where the Gallery is deployed."
                parsed = ids.parse_id(definition)
                gallery = svc.store.get(parsed.parent.id) if parsed and parsed.parent else None
                regions = {norm_location(r.get("name", "")) for r in target.get("targetRegions") or []}
                home = norm_location(gallery.body.get("location", "")) if gallery else ""
                if regions and home and home not in regions:
                    return ("BadSharedImageDistribute",  # wording guessed
                            f"The targetRegions of distribution target '{target.get('runOutputName')}' do not "
                            f"include the gallery's region '{home}'. One of the regions must be the region "
                            "where the Gallery is deployed.")
            elif target.get("type") == "ManagedImage":
                parsed = ids.parse_id(target.get("imageId", ""))
                if parsed is None or svc.store.rg(parsed.subscription, parsed.resource_group) is None:
                    return ("Other", f"The resource group of managed image '{target.get('imageId')}' of "
                                     f"distribution target '{target.get('runOutputName')}' was not found.")
        names = [t.get("runOutputName", "").lower() for t in props.get("distribute", [])]
        if len(names) != len(set(names)):
            return ("Other", "The runOutputName of each distribution target must be unique.")
        staging = props.get("stagingResourceGroup")
        if staging:
            parsed = ids.split_path(staging)
            rg = svc.store.rg(parsed.subscription or "", parsed.resource_group or "")
            if rg is not None and any(k.lower() in STAGING_TAG_KEYS for k in rg.tags):
                return ("BadStagingResourceGroup", STAGING_IN_USE.format(staging=staging))
            # Deployment records (Microsoft.Resources/deployments) are ARM's history, not resources
            # in the group: a nested deployment that grants AIB its roles there leaves it empty.
            if rg is not None and [r for r in svc.store.in_scope(staging) if not r.rid.is_extension
                                   and r.type.lower() not in ("microsoft.authorization/roleassignments",
                                                              "microsoft.resources/deployments")]:
                return ("BadStagingResourceGroup",
                        f"The staging resource group '{staging}' is not empty. Specify an empty resource group "
                        "or one that does not exist yet.")
        vm = props.get("vmProfile", {})
        subnet = (vm.get("vnetConfig") or {}).get("subnetId")
        if subnet:
            vnet = ids.parse_id(subnet)
            if vnet is None or vnet.parent is None or svc.store.get(vnet.parent.id) is None:
                return ("Other", f"The subnet '{subnet}' of vmProfile.vnetConfig was not found.")
        for uai in vm.get("userAssignedIdentities", []):
            if svc.store.get(uai) is None:
                return ("Other", f"The build VM identity '{uai}' in vmProfile.userAssignedIdentities was not found.")
        return None

    def creation_error(self, svc, res):
        error = self._creation_error(svc, res)
        if error is None:
            _associate_staging(svc, res)
        return error

    def set_provisioning(self, res, state, error):
        res.properties["provisioningState"] = state
        if error is not None:
            res.properties["provisioningError"] = {"provisioningErrorCode": error[0], "message": error[1]}

    def observe(self, svc, res):
        run = res.private.get("run")
        if run is not None:
            run.tick()

    def check_delete(self, svc, res):
        run = res.private.get("run")
        if run is not None and not run.finished:
            raise errors.ArmError(409, "Conflict",  # wording guessed
                                  "The image template has a build in progress. Cancel the build before deleting "
                                  "the template.")
        # "If Image Builder didn't create the staging resource group, but the resources inside of
        # the resource group, those resources will be deleted after the image template is deleted."
        # Whether the association tags go too is not documented: the fake keeps them (the worst case).
        staging = res.properties.get("stagingResourceGroup")
        if staging:
            for inner in svc.store.in_scope(staging):
                if not inner.rid.is_extension and inner.type.lower() not in (
                        "microsoft.authorization/roleassignments", "microsoft.resources/deployments") \
                        and svc.store.get(inner.id) is not None:
                    svc.store.delete(inner.id)

    def cascade_types(self):
        return {"microsoft.authorization/roleassignments", Triggers.type.lower()}

    def patch(self, svc, res, body, version):
        allowed = {"identity", "tags", "properties"}
        for key in body:
            if key not in allowed:
                raise errors.invalid_request_content(
                    f"Could not find member '{key}' on object of type 'ImageTemplateUpdateParameters'. Path '{key}'")
        for key in (body.get("properties") or {}):
            if key not in ("distribute", "vmProfile"):
                raise errors.invalid_request_content(
                    f"Could not find member '{key}' on object of type 'ImageTemplateUpdateParametersProperties'. "
                    f"Path 'properties.{key}'")
        for key in ("tags", "identity"):
            if key in body:
                res.input[key] = copy.deepcopy(body[key])
        for key, value in (body.get("properties") or {}).items():
            res.input.setdefault("properties", {})[key] = copy.deepcopy(value)
        new = self.normalise(svc, res.rid, res.input)
        built = self.build(svc, res.rid, new, res)
        built["properties"]["provisioningState"] = res.properties.get("provisioningState", "Succeeded")
        for key in ("lastRunStatus", "provisioningError"):
            if key in res.properties:
                built["properties"][key] = res.properties[key]
        res.input, res.body = new, built

    def post(self, svc, res, action, body, version):
        if action.lower() == "run":
            return start_run(svc, res)
        if action.lower() == "cancel":
            return cancel_run(svc, res)
        return super().post(svc, res, action, body, version)

    def collection(self, svc, res, name, query):
        if name.lower() != "runoutputs":
            return None
        self.observe(svc, res)
        return [copy.deepcopy(o) for o in res.private.get("run_outputs", [])]

    def virtual_child(self, svc, res, child_type: str, name: str) -> dict | None:
        if child_type.lower() != "runoutputs":
            return None
        for output in self.collection(svc, res, "runOutputs", {}) or []:
            if output["name"].lower() == name.lower():
                return output
        raise errors.resource_not_found(f"{self.type}/{res.rid.leaf_name}/runOutputs/{name}", res.rid.resource_group)


def _gallery_scope(image_id: str, action: str) -> str:
    """Where AIB checks an action: `galleries/read` on the gallery itself (an assignment on an
    image definition below it does not reach it), the image actions on the image definition."""
    definition, _ = image_definition_of(image_id)
    if action.lower() == "microsoft.compute/galleries/read":
        parsed = ids.parse_id(definition)
        if parsed is not None and parsed.parent is not None:
            return parsed.parent.id
    return definition


def _container_of_blob_uri(svc, uri: str) -> str | None:
    """The container resource a blob URI names: Azurite's, or `https://<account>.blob.<suffix>/<container>/…`."""
    found = svc.container_of_url(uri)
    if found:
        return found
    m = re.match(r"^https://([a-z0-9]+)\.blob\.[^/]+/([^/]+)/", uri, re.I)
    if not m:
        return None
    account, container = m.group(1).lower(), m.group(2).lower()
    for res in svc.store.of_type("Microsoft.Storage/storageAccounts/blobServices/containers"):
        if res.rid.leaf_name.lower() == container and f"/storageaccounts/{account}/" in res.id.lower():
            return res.id
    return None


def _is_windows(svc, source: dict) -> bool:
    if source.get("type") == "PlatformImage":
        return source.get("publisher", "").lower().startswith("microsoftwindows")
    if source.get("type") == "SharedImageVersion":
        definition = svc.store.get(image_definition_of(source.get("imageVersionId", ""))[0])
        return bool(definition) and definition.properties.get("osType", "").lower() == "windows"
    if source.get("type") == "ManagedImage":
        image = svc.store.get(source.get("imageId", ""))
        os_disk = ((image.properties.get("storageProfile") or {}).get("osDisk") or {}) if image else {}
        return os_disk.get("osType", "").lower() == "windows"
    return False


def _staging_group(svc, res: Resource):
    staging = res.properties.get("stagingResourceGroup")
    if not staging:
        return None
    parsed = ids.split_path(staging)
    return svc.store.rg(parsed.subscription or "", parsed.resource_group or "")


def _associate_staging(svc, res: Resource) -> None:
    """AIB tags a pre-existing staging group with the template that uses it."""
    rg = _staging_group(svc, res)
    if rg is not None:
        rg.tags.update({"usedBy": "imageBuilder", "imageTemplateName": res.rid.leaf_name,  # usedBy value guessed
                        "imageTemplateResourceGroupName": res.rid.resource_group})


def staging_mismatch(svc, res: Resource) -> str | None:
    """The run-time half of the rule: the group's tags must name the running template."""
    rg = _staging_group(svc, res)
    if rg is None:
        return None
    tags = {k.lower(): str(v).lower() for k, v in rg.tags.items()}
    if tags.get("imagetemplatename") != res.rid.leaf_name.lower() or \
            tags.get("imagetemplateresourcegroupname") != (res.rid.resource_group or "").lower():
        return STAGING_MISMATCH.format(staging=res.properties["stagingResourceGroup"])
    return None


def _identity_view(svc, identity_id: str) -> dict:
    res = svc.store.get(identity_id)
    if res is None:
        return {}
    return {"principalId": res.properties.get("principalId"), "clientId": res.properties.get("clientId")}


class Triggers(Handler):
    type = TEMPLATES_TYPE + "/triggers"
    versions = AIB_VERSIONS
    location = "none"
    put_lro = "async"
    delete_lro = "location"
    readonly_props = ("provisioningState", "status")

    def check_write(self, svc, rid, new, existing, changed, dry_run):
        template = svc.store.get(rid.parent.id)
        kind = new.get("properties", {}).get("kind")
        # image-builder-triggers-how-to.md: "Only one `SourceImage` trigger per image is supported.
        # If you already have a `SourceImage` trigger on the image, you can't create a new one."
        if kind == "SourceImage" and existing is None and template is not None and any(
                t.type.lower() == self.type.lower() and t.properties.get("kind") == "SourceImage"
                for t in svc.store.descendants(template.id)):
            raise errors.ArmError(400, "BadRequest",  # wording guessed
                                  "Only one SourceImage trigger per image template is supported; this template "
                                  "already has one.")
        source = (template.properties.get("source") if template else None) or {}
        if kind == "SourceImage" and not (source.get("type") == "SharedImageVersion"
                                          and source.get("imageVersionId", "").lower().endswith("/versions/latest")):
            raise errors.ArmError(400, "BadRequest",  # wording guessed
                                  "A SourceImage trigger needs an image template whose source is a SharedImageVersion "
                                  "with version 'latest'.")

    def build(self, svc, rid, new, existing):
        body = super().build(svc, rid, new, existing)
        body["properties"]["status"] = {"code": "Healthy", "message": "", "time": svc.clock.iso()}
        return body


# ----------------------------------------------------------------------------- runs

def start_run(svc, res: Resource):
    """POST {template}/run: 202 with Azure-AsyncOperation (the service wraps the operation)."""
    state = res.properties.get("provisioningState")
    if state != "Succeeded":
        raise errors.ArmError(409, "Conflict",  # wording guessed
                              f"The image template is in provisioning state '{state}'; only a template that "
                              "provisioned successfully can be run.")
    run = res.private.get("run")
    if run is not None and not run.finished:
        raise errors.ArmError(409, "Conflict",  # wording guessed
                              "A build of this image template is already running. Wait for it to finish or cancel it.")
    run = RunSim(svc, res, svc.scenario.run_spec(res.rid.leaf_name))
    res.private["run"] = run
    return run


def cancel_run(svc, res: Resource):
    run = res.private.get("run")
    if run is None or run.finished:
        raise errors.ArmError(409, "Conflict",  # wording guessed
                              "There is no build of this image template in progress to cancel.")
    run.cancel()
    return run


class RunSim:
    """One build. Advances one step per observation (a GET of the template, a poll of the run
    operation, a GET of runOutputs) or per `seconds_per_step` of the fake clock."""

    def __init__(self, svc, res: Resource, spec: dict):
        self.svc, self.res, self.spec = svc, res, spec
        props = res.properties
        steps = ["Queued", "Building"]
        if props.get("customize"):
            steps.append("Customizing")
        if props.get("optimize"):
            steps.append("Optimizing")
        if props.get("validate"):
            steps.append("Validating")
        steps.append("Distributing")
        self.steps = list(spec.get("substates") or steps)
        self.idx = 0
        self.finished = False
        self.canceling = False
        self.result: str | None = None
        self.versions: list[str] = []
        self.outputs: list[dict] = []
        self.failed_targets: set[str] = set()
        self.started = svc.clock.now()
        self._countdown = self._new_countdown()
        res.private["run_outputs"] = []
        self._write("Running", self.steps[0], "")

    def _new_countdown(self) -> Countdown:
        # "durations": {"Customizing": 40, ...} seconds per sub-state (scripted build timing).
        durations = self.spec.get("durations") or {}
        if self.step in durations:
            return Countdown(self.svc.clock, {"seconds": durations[self.step]})
        if "seconds_per_step" in self.spec:
            return Countdown(self.svc.clock, {"seconds": self.spec["seconds_per_step"]})
        return Countdown(self.svc.clock, {"polls": int(self.spec.get("polls_per_step", 1))})

    def _write(self, run_state: str, sub_state: str | None, message: str) -> None:
        status: dict[str, Any] = {"startTime": self.svc.clock.iso(self.started), "runState": run_state,
                                  "message": message}
        if sub_state:
            status["runSubState"] = sub_state
        if run_state not in ("Running", "Canceling"):
            status["endTime"] = self.svc.clock.iso()
        self.res.properties["lastRunStatus"] = status

    @property
    def step(self) -> str:
        return self.steps[self.idx]

    # -- progress ---------------------------------------------------------------------------

    def cancel(self) -> None:
        self.canceling = True
        self._write("Canceling", self.step, "Cancellation requested.")

    def tick(self) -> None:
        if self.finished:
            return
        if self.canceling:
            self._finish("Canceled", "The build was canceled.")
            return
        for version in self.versions:
            res = self.svc.store.get(version)
            if res is not None:
                tick_replication(res)
        if not self._countdown.tick():
            return
        if self.step == "Distributing" and not all(self._replicated(v) for v in self.versions):
            return
        if self.spec.get("fail_at") == self.step:
            self._finish("Failed", self.spec.get("message") or _default_failure(self.step, self.res))
            return
        if self.idx + 1 >= len(self.steps):
            self._complete()
            return
        self.idx += 1
        self._countdown = self._new_countdown()
        problem = self._enter(self.step)
        if problem:
            self._finish("Failed", problem)
        else:
            self._write("Running", self.step, "")

    def _replicated(self, version_id: str) -> bool:
        res = self.svc.store.get(version_id)
        return res is None or replication_done(res)

    def _enter(self, step: str) -> str | None:
        """Work done when a sub-state starts; returns a failure message or None."""
        if step == "Building":
            return staging_mismatch(self.svc, self.res) or self._check_permissions()
        if step == "Customizing":
            return self._check_artifacts(self.res.properties.get("customize", []), "customizer")
        if step == "Validating":
            return self._check_artifacts((self.res.properties.get("validate") or {}).get("inVMValidations", []),
                                         "validator")
        if step == "Distributing":
            return self._distribute()
        return None

    def _complete(self) -> None:
        result = self.spec.get("result", "Succeeded")
        failed_regions = [v for v in self.versions
                          if self.svc.store.get(v) and self.svc.store.get(v).properties.get("provisioningState") == "Failed"]
        if failed_regions and "result" not in self.spec:
            result = "Failed"
        if result == "PartiallySucceeded":
            targets = self.res.properties.get("distribute", [])
            failing = self.spec.get("failed_outputs") or [targets[-1].get("runOutputName")] if targets else []
            self.failed_targets = {n.lower() for n in failing}
        message = self.spec.get("message") or {
            "Succeeded": "",
            "PartiallySucceeded": "Some distribution targets failed: " + ", ".join(sorted(self.failed_targets)),
            "Failed": "Distribution failed: replication of gallery image version(s) failed: " + ", ".join(failed_regions),
            "Canceled": "The build was canceled."}.get(result, "")
        self._finish(result, message)

    def _finish(self, result: str, message: str) -> None:
        self.finished = True
        self.result = result
        self._write(result, self.step, message)
        outputs = []
        if result in ("Succeeded", "PartiallySucceeded"):
            outputs = [o for o in self.outputs if o["name"].lower() not in self.failed_targets]
        self.res.private["run_outputs"] = outputs

    # -- checks ---------------------------------------------------------------------------

    def _identity(self) -> Resource | None:
        uais = _identity_ids(self.res.input)
        return self.svc.store.get(uais[0]) if uais else None

    def _check_permissions(self) -> str | None:
        if not self.svc.scenario.option("aib", "check_permissions", True):
            return None
        identity = self._identity()
        if identity is None:
            return "The user-assigned identity of the image template was not found."
        principal, app = identity.properties["principalId"], identity.properties["clientId"]
        needed: list[tuple[str, str, bool]] = []
        props = self.res.properties
        source = props.get("source", {})
        if source.get("type") == "SharedImageVersion":
            needed += [(_gallery_scope(source["imageVersionId"], a), a, False) for a in SOURCE_GALLERY_ACTIONS]
        if source.get("type") == "ManagedImage":
            needed.append((source.get("imageId", ""), "Microsoft.Compute/images/read", False))
        for target in props.get("distribute", []):
            if target.get("type") == "SharedImage":
                definition, _ = image_definition_of(target["galleryImageId"])
                needed += [(_gallery_scope(definition, a), a, False) for a in GALLERY_ACTIONS]
            elif target.get("type") == "ManagedImage":
                needed += [(target["imageId"], a, False) for a in MANAGED_IMAGE_ACTIONS]
            elif target.get("type") == "VHD" and target.get("uri"):
                # AIB writes the VHD with the template's identity.
                container = _container_of_blob_uri(self.svc, target["uri"])
                if container:
                    needed.append((container, BLOB_WRITE, True))
        vm = props.get("vmProfile", {})
        for key in ("subnetId", "containerInstanceSubnetId"):
            subnet = (vm.get("vnetConfig") or {}).get(key)
            if subnet:
                needed += [(subnet, a, False) for a in SUBNET_ACTIONS]
        for uai in vm.get("userAssignedIdentities", []):
            needed.append((uai, ASSIGN_IDENTITY_ACTION, False))
        for url in _artifact_urls(props):
            container = self.svc.container_of_url(url)
            if container:
                needed.append((container, BLOB_READ, True))
        staging = props.get("stagingResourceGroup")
        if staging:
            parsed = ids.split_path(staging)
            if self.svc.store.rg(parsed.subscription or "", parsed.resource_group or "") is not None:
                needed += [(staging, a, False) for a in STAGING_ACTIONS]
            else:
                needed.append((f"/subscriptions/{parsed.subscription}",
                               "Microsoft.Resources/subscriptions/resourceGroups/write", False))
        for scope, action, data in needed:
            if not self.svc.rbac.allowed(principal, scope, action, data):
                return "Validation of the image template's permissions failed: " + \
                    self.svc.rbac.denial(principal, app, scope, action)
        return self._check_first_party(staging)

    def _check_first_party(self, staging: str | None) -> str | None:
        """image-builder-troubleshoot.md, "Authorization error occurs with creating a disk": with a
        Windows source, a pre-existing staging group and a VNet, AIB's own first-party service
        principal creates the proxy VM's disk there and needs Contributor on the group."""
        props = self.res.properties
        subnet = ((props.get("vmProfile") or {}).get("vnetConfig") or {}).get("subnetId")
        if not (staging and subnet and _is_windows(self.svc, props.get("source", {}))):
            return None
        parsed = ids.split_path(staging)
        if self.svc.store.rg(parsed.subscription or "", parsed.resource_group or "") is None:
            return None
        oid = self.svc.scenario.option("aib", "first_party_object_id", FIRST_PARTY_OBJECT_ID)
        action = "Microsoft.Compute/disks/write"
        if self.svc.rbac.allowed(oid, staging, action):
            return None
        disk = f"{staging}/providers/Microsoft.Compute/disks/proxyVmDiskWin_{self.svc.clock.now():.0f}"
        return ("Attempting to deploy created Image template in Azure fails with an '"
                + self.svc.rbac.denial(oid, FIRST_PARTY_APP_ID, disk, action) + "'")

    def _check_artifacts(self, steps: list[dict], kind: str) -> str | None:
        if not self.svc.scenario.option("aib", "check_artifacts", False):
            return None
        for step in steps:
            url = step.get("scriptUri") or step.get("sourceUri")
            if not url:
                continue
            blob = self.svc.blob_of_url(url)
            if blob is None:
                continue  # not in an account the fake knows: not checked
            if blob.get("data") is None:
                return (f"Failed while running {kind} '{step.get('name')}': downloading '{url}' failed: "
                        "404 The specified blob does not exist.")
            wanted = step.get("sha256Checksum")
            if wanted and hashlib.sha256(blob["data"]).hexdigest().lower() != wanted.lower():
                return (f"Failed while running {kind} '{step.get('name')}': the SHA256 checksum of '{url}' does "
                        f"not match sha256Checksum '{wanted}'.")
        return None

    # -- distribution -----------------------------------------------------------------------

    def _distribute(self) -> str | None:
        props = self.res.properties
        for target in props.get("distribute", []):
            name = target.get("runOutputName")
            kind = target.get("type")
            if kind == "SharedImage":
                version_id, problem = self._gallery_version(target)
                if problem:
                    return problem
                self.versions.append(version_id)
                output = {"artifactId": version_id}
            elif kind == "ManagedImage":
                self._managed_image(target)
                output = {"artifactId": target["imageId"]}
            else:
                staging = self.res.properties.get("exactStagingResourceGroup", "")
                account = "st" + derived_uuid("vhd", staging).replace("-", "")[:20]
                output = {"artifactUri": target.get("uri") or f"https://{account}.blob.core.windows.net/vhds/{name}.vhd"}
            output["provisioningState"] = "Succeeded"
            self.outputs.append({"name": name, "type": TEMPLATES_TYPE + "/runOutputs",
                                 "id": f"{self.res.id}/runOutputs/{name}", "properties": output})
        return None

    def _gallery_version(self, target: dict) -> tuple[str, str | None]:
        definition_id, version = image_definition_of(target["galleryImageId"])
        definition = self.svc.store.get(definition_id)
        if definition is None:
            return "", f"Distribution failed: the gallery image definition '{definition_id}' was not found."
        if version is None:
            version = self._next_version(definition, target.get("versioning") or {"scheme": "Latest"})
        version_id = f"{definition.id}/versions/{version}"
        if self.svc.store.get(version_id) is not None:
            return "", (f"Distribution failed: gallery image version '{version}' already exists in image definition "
                        f"'{definition.id}'.")  # wording guessed
        regions = target.get("targetRegions") or [{"name": r} for r in target.get("replicationRegions", [])] or \
            [{"name": self.res.body.get("location", "")}]
        os_disk = (self.res.properties.get("vmProfile") or {}).get("osDiskSizeGB") or 30
        body = {
            "location": definition.body.get("location"),
            "properties": {
                "publishingProfile": {
                    "targetRegions": [{"name": region_display(r["name"]),
                                       "regionalReplicaCount": r.get("replicaCount", 1),
                                       "storageAccountType": r.get("storageAccountType", "Standard_LRS")}
                                      for r in regions],
                    "replicaCount": 1,
                    "excludeFromLatest": bool(target.get("excludeFromLatest", False)),
                },
                "storageProfile": {"osDiskImage": {"sizeInGB": os_disk, "hostCaching": "ReadWrite"}},
            },
        }
        if target.get("artifactTags"):
            body["tags"] = dict(target["artifactTags"])
        rid = ids.parse_id(version_id)
        res = self.svc.write_internal(rid, GalleryImageVersions.type, body)
        start_replication(self.svc, res, self.spec.get("replication") or self.svc.scenario.get("replication", {}))
        return res.id, None

    def _next_version(self, definition: Resource, versioning: dict) -> str:
        existing = []
        for v in self.svc.store.descendants(definition.id):
            m = _VERSION_RE.match(v.rid.leaf_name) if v.type.lower() == GalleryImageVersions.type.lower() else None
            if m:
                existing.append(tuple(int(x) for x in m.groups()))
        if versioning.get("scheme") == "Source":
            source = self.res.properties.get("source", {})
            exact = source.get("exactVersion") or source.get("imageVersionId", "")
            return exact.rsplit("/", 1)[-1]
        major = int(versioning.get("major", -1))
        pool = [v for v in existing if major < 0 or v[0] == major]
        if not pool:  # first version: guessed convention
            return f"{major if major >= 0 else 1}.0.0"
        top = max(pool)
        return f"{top[0]}.{top[1]}.{top[2] + 1}"

    def _managed_image(self, target: dict) -> None:
        rid = ids.parse_id(target["imageId"])
        body = {"location": norm_location(target.get("location", self.res.body.get("location", ""))),
                "tags": dict(target.get("artifactTags") or {}),
                "properties": {"storageProfile": {"osDisk": {"osType": "Linux", "osState": "Generalized"}},
                               "hyperVGeneration": "V2"}}
        self.svc.write_internal(rid, "Microsoft.Compute/images", body)


def resolve_latest_source(svc, res: Resource) -> None:
    """Fill source.exactVersion for a 'latest' SharedImageVersion source (at run start)."""
    source = res.properties.get("source", {})
    if source.get("type") != "SharedImageVersion":
        return
    definition, version = image_definition_of(source.get("imageVersionId", ""))
    if (version or "").lower() != "latest":
        return
    best = None
    for v in svc.store.descendants(definition):
        m = _VERSION_RE.match(v.rid.leaf_name)
        if m and not v.properties.get("publishingProfile", {}).get("excludeFromLatest"):
            key = tuple(int(x) for x in m.groups())
            if best is None or key > best[0]:
                best = (key, v.id)
    if best:
        source["exactVersion"] = best[1]


def _artifact_urls(props: dict) -> list[str]:
    urls = []
    for step in props.get("customize", []) + (props.get("validate") or {}).get("inVMValidations", []):
        for key in ("scriptUri", "sourceUri"):
            if step.get(key):
                urls.append(step[key])
    return urls


def _default_failure(step: str, res: Resource) -> str:
    if step == "Customizing":
        names = [c.get("name") for c in res.properties.get("customize", [])]
        return (f"Failed while running customizer '{names[-1] if names else '?'}': the script exited with code 1. "
                "See customization.log in the staging resource group's storage account.")
    if step == "Validating":
        return "Validation failed: an in-VM validation exited with code 1. See validation.log."
    if step == "Distributing":
        return "Distribution failed: the image could not be published to the distribution targets."
    return f"The build failed while {step.lower()}."
